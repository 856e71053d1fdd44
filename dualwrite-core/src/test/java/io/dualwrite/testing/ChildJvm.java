package io.dualwrite.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Assertions;

/**
 * One instance of the service as a JVM of its own, started from the test's class path with a {@code main} class of
 * the tests, so that a test can do to it what happens to a real instance: {@link #kill()} ({@code kill -9}: no
 * shutdown hook, no rollback but the servers' own), {@link #freeze()} and {@link #thaw()} ({@code SIGSTOP} and
 * {@code SIGCONT}: a long GC pause or a stalled VM, its connections left open). It reports by printing lines that
 * start with {@value #PREFIX}; the test reads them as they come, each stamped by the child's own clock (the same
 * machine's), so that they can be ordered against the moments the test sent a signal.
 *
 * <p>Its whole output is also written to {@code target/child-jvms/<name>-<pid>.log}.
 *
 * <p>The same pattern as the samples' soak ({@code SoakRun}), small enough for a test of the normal build.
 */
public final class ChildJvm implements AutoCloseable {

    /** What a child's report lines start with; the rest of its output (logs) is kept only for failure messages. */
    public static final String PREFIX = "DW|";

    private final String name;
    private final Process process;
    private final List<String> output = new CopyOnWriteArrayList<>();
    private final List<Report> reports = new CopyOnWriteArrayList<>();
    private final Thread reader;

    private final Path log;

    private ChildJvm(String name, Process process) throws IOException {
        this.name = name;
        this.process = process;
        this.log = Path.of("target", "child-jvms", name + "-" + process.pid() + ".log");
        java.nio.file.Files.createDirectories(log.getParent());
        this.reader = new Thread(this::read, "child-jvm-" + name);
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts {@code main} in a new JVM on the test's class path.
     *
     * @param name the name the test gives it, in messages
     * @param main a class with a {@code main} method, from the tests
     * @param arguments its arguments
     * @return the running child
     * @throws IOException if the JVM cannot be started
     */
    public static ChildJvm start(String name, Class<?> main, List<String> arguments) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Duser.timezone=" + java.util.TimeZone.getDefault().getID(),
                "-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(arguments);
        return new ChildJvm(name, new ProcessBuilder(command).redirectErrorStream(true).start());
    }

    /** A line a child reported: its words after the prefix, and the child's clock when it printed it. */
    public record Report(String child, long atMillis, List<String> words) {

        /** @return the first word, what the line reports */
        public String kind() {
            return words.get(0);
        }

        /**
         * @param key a {@code key=value} word's key
         * @return its value
         * @throws IllegalArgumentException if the line has no such word
         */
        public String get(String key) {
            return words.stream().filter(w -> w.startsWith(key + "=")).map(w -> w.substring(key.length() + 1))
                    .findFirst().orElseThrow(() -> new IllegalArgumentException("no " + key + " in " + this));
        }

        /** @return {@link #get} as a number */
        public long number(String key) {
            return Long.parseLong(get(key));
        }
    }

    /**
     * Prints a report line, in the child: {@code DW|<millis> <kind> key=value ...}.
     *
     * @param kind what the line reports
     * @param words {@code key=value} words without spaces
     */
    public static void report(String kind, Object... words) {
        StringBuilder line = new StringBuilder(PREFIX).append(System.currentTimeMillis()).append(' ').append(kind);
        for (Object word : words) {
            line.append(' ').append(word);
        }
        synchronized (System.out) {
            System.out.println(line);
            System.out.flush();
        }
    }

    private void read() {
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8));
                java.io.Writer file = java.nio.file.Files.newBufferedWriter(log, StandardCharsets.UTF_8)) {
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                output.add(line);
                file.write(line);
                file.write('\n');
                file.flush();
                int at = line.indexOf(PREFIX);
                if (at >= 0) {
                    String[] words = line.substring(at + PREFIX.length()).trim().split(" ");
                    reports.add(new Report(name, Long.parseLong(words[0]), List.of(words).subList(1, words.length)));
                }
            }
        } catch (IOException | RuntimeException e) {
            output.add("(reading the child's output failed: " + e + ")");
        }
    }

    /** @return the name the test gave it */
    public String name() {
        return name;
    }

    /** @return every report line so far, in order */
    public List<Report> reports() {
        return List.copyOf(reports);
    }

    /** @return the reports of one kind so far */
    public List<Report> reports(String kind) {
        return reports.stream().filter(r -> r.kind().equals(kind)).toList();
    }

    /**
     * Waits for a report line.
     *
     * @param what what the test waits for, in the failure message
     * @param match which line
     * @param timeoutMillis the longest wait
     * @return the first line that matches
     * @throws InterruptedException if interrupted
     * @throws org.opentest4j.AssertionFailedError if the child exits first, or the time runs out (with its output)
     */
    public Report await(String what, Predicate<Report> match, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (true) {
            for (Report report : reports) {
                if (match.test(report)) {
                    return report;
                }
            }
            if (!process.isAlive()) {
                reader.join(2_000);
                for (Report report : reports) {
                    if (match.test(report)) {
                        return report;
                    }
                }
                return Assertions.fail(name + " exited (" + process.exitValue() + ") before " + what + "\n" + tail());
            }
            if (System.nanoTime() > deadline) {
                return Assertions.fail(name + ": no " + what + " within " + timeoutMillis + " ms\n" + tail());
            }
            Thread.sleep(5);
        }
    }

    /**
     * Waits for the child to end by itself.
     *
     * @param timeoutMillis the longest wait
     * @return its exit code
     * @throws InterruptedException if interrupted
     * @throws org.opentest4j.AssertionFailedError if it still runs then (it is killed, its output in the message)
     */
    public int awaitExit(long timeoutMillis) throws InterruptedException {
        if (!process.waitFor(timeoutMillis, TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            return Assertions.fail(name + " still ran after " + timeoutMillis + " ms\n" + tail());
        }
        reader.join(5_000);
        return process.exitValue();
    }

    /** {@code kill -9}: the JVM ends at once, its transactions are rolled back by the servers when they see it gone. */
    public void kill() throws IOException, InterruptedException {
        signal("KILL");
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** {@code kill -STOP}: every thread stops where it stands, its connections stay open. */
    public void freeze() throws IOException, InterruptedException {
        signal("STOP");
    }

    /** {@code kill -CONT}: it goes on from where it stood, unaware of the time it lost. */
    public void thaw() throws IOException, InterruptedException {
        signal("CONT");
    }

    private void signal(String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(process.pid())).redirectErrorStream(true)
                .start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IOException("kill -" + signal + " " + process.pid() + " (" + name + ") failed");
        }
    }

    /** @return whether it still runs */
    public boolean isAlive() {
        return process.isAlive();
    }

    /** @return the last lines of its output, for a failure message */
    public String tail() {
        List<String> lines = List.copyOf(output);
        return "--- last output of " + name + " (all of it in " + log.toAbsolutePath() + ") ---\n"
                + String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
    }

    /** Kills it if it still runs ({@code SIGKILL} ends a frozen child too). */
    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
