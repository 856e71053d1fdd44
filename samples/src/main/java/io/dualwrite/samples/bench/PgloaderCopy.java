package io.dualwrite.samples.bench;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The peer for MariaDB to PostgreSQL: pgloader (the Debian package), run as its documentation shows for a
 * MySQL source, on the one table, into a schema of its own. pgloader creates the table, streams the rows
 * with {@code COPY} and builds the primary key after the data is in; {@code include drop} makes every run
 * start from a fresh table. Its workers are set in the load file rather than left to its defaults:
 * {@value #WORKERS} workers with a concurrency of {@value #CONCURRENCY}, one thread reading MariaDB and one
 * writing PostgreSQL for the one table, as its summary's "COPY Threads Completion" line confirms.
 *
 * <p>Its summary splits the run: the copy ("COPY Threads Completion"), the index build ("Index Build
 * Completion") and the total; the process's wall time less that total is its start-up (the Lisp image, the
 * connections, the catalogue reads), so that the harness can report each apart.
 *
 * <p>The process runs under {@code bash}, whose {@code times} builtin then reports pgloader's own CPU time,
 * so that the harness can tell pgloader's CPU from the neighbours'.
 */
final class PgloaderCopy {

    /** The summary's last line: "Total import time  ✓  1000000  150.2 MB  8.123s". */
    private static final Pattern TOTAL = Pattern.compile(
            "Total import time\\s+\\S+\\s+(\\d+)\\s+.*?\\s([0-9hms.]+)\\s*$", Pattern.MULTILINE);
    private static final Pattern TIMES = Pattern.compile("(\\d+)m([0-9.]+)s\\s+(\\d+)m([0-9.]+)s");

    /** pgloader's workers, set in the load file (its default is 4). */
    static final int WORKERS = 2;
    /** Tables copied at once, and threads per side for each (its default). */
    static final int CONCURRENCY = 1;

    /**
     * The parts of a run, from pgloader's summary; NaN or -1 where a line is missing.
     *
     * @param copySeconds "COPY Threads Completion": from the first row read to the last one written
     * @param copyThreads the threads that line counts, readers and writers
     * @param indexSeconds "Index Build Completion": the primary key's build after the copy
     */
    record Phases(double copySeconds, int copyThreads, double indexSeconds) {
    }

    /**
     * One pgloader run.
     *
     * @param nanos the process's wall time, start to exit
     * @param reportedSeconds pgloader's own "Total import time", or NaN if not found
     * @param reportedRows the rows pgloader reports, or -1
     * @param cpuSeconds pgloader's user + system CPU time, or NaN
     * @param exitCode the exit code
     * @param output the tail of its output, for a failure's message
     * @param phases the copy and the index build, from its summary
     */
    record Result(long nanos, double reportedSeconds, long reportedRows, double cpuSeconds, int exitCode,
            String output, Phases phases) {

        /** @return the wall time outside pgloader's own total: start-up and exit, or NaN */
        double startupSeconds() {
            return Double.isNaN(reportedSeconds) ? Double.NaN : Math.max(0, nanos / 1e9 - reportedSeconds);
        }
    }

    private final Path workDir;

    /** @param workDir a scratch directory for the load file, logs and pgloader's root dir */
    PgloaderCopy(Path workDir) {
        this.workDir = workDir;
    }

    /** @return pgloader's version line, or {@code null} when it is not installed */
    static String version() {
        try {
            Process process = new ProcessBuilder("pgloader", "--version").redirectErrorStream(true).start();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return process.waitFor() == 0 ? out.lines().findFirst().orElse("pgloader").trim() : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** @return the load command's text for a copy of {@code sourceDatabase.t_order} into {@code schema} */
    String command(String sourceDatabase, String schema) {
        return "LOAD DATABASE\n"
                + "  FROM " + url("mysql", Store.MARIADB, sourceDatabase) + "\n"
                + "  INTO " + url("pgsql", Store.POSTGRESQL, null) + "\n"
                + "  WITH include drop, create tables, create indexes, reset no sequences, workers = " + WORKERS
                + ", concurrency = " + CONCURRENCY + "\n"
                + "  INCLUDING ONLY TABLE NAMES MATCHING '" + OrderTable.NAME + "'\n"
                + "  ALTER SCHEMA '" + sourceDatabase + "' RENAME TO '" + schema + "';\n";
    }

    /**
     * Loads {@code sourceDatabase.t_order} into {@code schema.t_order} and waits, at most {@code timeoutSeconds}.
     *
     * @throws IOException if pgloader cannot be started or its files written
     * @throws InterruptedException if interrupted
     */
    Result run(String sourceDatabase, String schema, long timeoutSeconds) throws IOException, InterruptedException {
        Path load = workDir.resolve("t_order.load");
        Path output = workDir.resolve("pgloader-output.txt");
        Path cpuTimes = workDir.resolve("times.txt");
        Files.writeString(load, command(sourceDatabase, schema), StandardCharsets.UTF_8);
        ProcessBuilder builder = new ProcessBuilder("bash", "-c",
                "pgloader --root-dir \"$1/root\" --logfile \"$1/pgloader.log\" \"$2\" > \"$3\" 2>&1; rc=$?;"
                        + " times > \"$4\"; exit $rc", "bash", workDir.toString(), load.toString(), output.toString(),
                cpuTimes.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        long started = System.nanoTime();
        Process process = builder.start();
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.descendants().forEach(ProcessHandle::destroy);
            process.destroy();
            throw new IOException("pgloader did not finish within " + timeoutSeconds + " s");
        }
        long nanos = System.nanoTime() - started;
        String out = Files.exists(output) ? Files.readString(output, StandardCharsets.UTF_8) : "";
        double reported = Double.NaN;
        long rows = -1;
        Matcher total = TOTAL.matcher(out);
        if (total.find()) {
            rows = Long.parseLong(total.group(1));
            reported = seconds(total.group(2));
        }
        // `times` prints the shell's own times, then its children's: pgloader's are the second line.
        double cpu = Double.NaN;
        String times = Files.exists(cpuTimes) ? Files.readString(cpuTimes, StandardCharsets.UTF_8) : "";
        List<String> lines = times.lines().filter(l -> TIMES.matcher(l).find()).toList();
        if (lines.size() >= 2) {
            Matcher m = TIMES.matcher(lines.get(1));
            if (m.find()) {
                cpu = Integer.parseInt(m.group(1)) * 60 + Double.parseDouble(m.group(2))
                        + Integer.parseInt(m.group(3)) * 60 + Double.parseDouble(m.group(4));
            }
        }
        List<String> outLines = out.lines().toList();
        String tail = String.join("\n", outLines.subList(Math.max(0, outLines.size() - 30), outLines.size()));
        return new Result(nanos, reported, rows, cpu, process.exitValue(), tail, phases(out));
    }

    /** Reads the copy's and the index build's lines of pgloader's summary. */
    static Phases phases(String summary) {
        Matcher copy = phaseLine("COPY Threads Completion").matcher(summary);
        Matcher index = phaseLine("Index Build Completion").matcher(summary);
        boolean copied = copy.find();
        boolean indexed = index.find();
        return new Phases(copied ? seconds(copy.group(2)) : Double.NaN,
                copied ? Integer.parseInt(copy.group(1)) : -1, indexed ? seconds(index.group(2)) : Double.NaN);
    }

    /** A phase's summary line: its name, errors, a count (threads, indexes), then its time. */
    private static Pattern phaseLine(String name) {
        return Pattern.compile("^\\s*" + Pattern.quote(name) + "\\s+\\d+\\s+(\\d+)\\s+([0-9hms.]+)\\s*$",
                Pattern.MULTILINE);
    }

    /** Parses pgloader's durations: {@code 12.345s}, {@code 1m2.345s}, {@code 1h2m3.4s}. */
    private static double seconds(String text) {
        double total = 0;
        Matcher part = Pattern.compile("([0-9.]+)([hms])").matcher(text);
        while (part.find()) {
            double value = Double.parseDouble(part.group(1));
            total += switch (part.group(2)) {
                case "h" -> value * 3600;
                case "m" -> value * 60;
                default -> value;
            };
        }
        return total;
    }

    /** Turns the harness's JDBC URL of a store into pgloader's {@code scheme://user:password@host:port/db}. */
    private static String url(String scheme, Store store, String database) {
        URI jdbc = URI.create(store.baseUrl().substring("jdbc:".length()));
        String path = jdbc.getPath() == null ? "" : jdbc.getPath();
        String db = database != null ? database : path.startsWith("/") ? path.substring(1) : path;
        String user = store.user() == null ? "" : encode(store.user());
        String password = store.password() == null || store.password().isEmpty() ? "" : ":" + encode(store.password());
        String credentials = user.isEmpty() ? "" : user + password + "@";
        return scheme + "://" + credentials + jdbc.getHost() + (jdbc.getPort() > 0 ? ":" + jdbc.getPort() : "") + "/"
                + db;
    }

    private static String encode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
