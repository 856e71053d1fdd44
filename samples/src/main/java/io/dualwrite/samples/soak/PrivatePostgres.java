package io.dualwrite.samples.soak;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A PostgreSQL cluster of the soak's own, so that it can stop the target for real without touching the
 * shared server: {@code initdb} into a temporary directory, run as the {@code postgres} OS user (the
 * soak runs as root in CI), on a free port, trust authentication, durability off (it is thrown away).
 * {@code idle_in_transaction_session_timeout} ends the sessions a frozen or cut-off instance leaves in a
 * transaction, as a production server's timeouts would, so their row locks do not outlive the fault.
 */
final class PrivatePostgres implements AutoCloseable {

    private final Path bin;
    private final Path dir;
    private final Path data;
    private final int port;

    private PrivatePostgres(Path bin, Path dir, int port) {
        this.bin = bin;
        this.dir = dir;
        this.data = dir.resolve("data");
        this.port = port;
    }

    /**
     * Creates and starts a cluster.
     *
     * @param bin the PostgreSQL binaries, e.g. {@code /usr/lib/postgresql/15/bin} ({@code soak.pg.bin})
     * @return the running cluster
     * @throws IOException if a command fails; the message holds its output
     * @throws InterruptedException if interrupted
     */
    static PrivatePostgres start(Path bin) throws IOException, InterruptedException {
        if (!Files.isExecutable(bin.resolve("initdb"))) {
            throw new IOException("soak.pg.bin: no initdb in " + bin + "; point it at PostgreSQL's bin directory");
        }
        Path dir = Files.createTempDirectory("dw-soak-pg-");
        run(List.of("chown", "postgres", dir.toString()));
        PrivatePostgres cluster = new PrivatePostgres(bin, dir, freePort());
        cluster.asPostgres(bin.resolve("initdb").toString(), "-D", cluster.data.toString(), "-A", "trust", "-U",
                "postgres", "-E", "UTF8", "--no-sync");
        cluster.startServer();
        return cluster;
    }

    int port() {
        return port;
    }

    String url(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    void startServer() throws IOException, InterruptedException {
        asPostgres(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-l", dir.resolve("server.log").toString(),
                "-w", "-t", "60", "-o", "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off"
                        + " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
                        + " -c idle_in_transaction_session_timeout=5s", "start");
    }

    /** Stops the server the way an operator's fast shutdown does: sessions are ended, nothing waits. */
    void stopServer() throws IOException, InterruptedException {
        asPostgres(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "fast", "-w", "-t", "60", "stop");
    }

    @Override
    public void close() throws IOException {
        try {
            asPostgres(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "immediate", "-w", "stop");
        } catch (IOException alreadyStopped) {
            // stopped by a fault that did not heal, or never started
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            run(List.of("rm", "-rf", dir.toString()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void asPostgres(String... command) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
        full.addAll(List.of(command));
        run(full);
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] output = process.getInputStream().readAllBytes();
        if (!process.waitFor(90, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + new String(output).trim());
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
