package io.dualwrite.samples.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the machine's CPU went during a measured window, in cores (1.0 = one core busy all the time),
 * so that a latency difference between modes can be set against who was competing for the two cores:
 * the application threads, dualwrite's lane threads, the rest of this JVM, the database servers, and
 * everything else (other people's builds and tests on a shared machine).
 *
 * <p>Machine and process figures come from Linux {@code /proc} (jiffies, converted to cores with the
 * machine's own jiffy count, so no clock-tick constant is assumed); thread figures from the JVM's
 * {@link ThreadMXBean}; application threads measure their own, since they end with the window. Database
 * servers are grouped by process name, so their CPU includes work done for other clients of the same
 * servers. Elsewhere than on Linux, only the thread figures are available.
 */
final class CpuMeter {

    private static final Path PROC = Path.of("/proc");
    private static final long SELF = ProcessHandle.current().pid();

    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final int cores = Runtime.getRuntime().availableProcessors();

    /** CPU use over a window; a field is {@code NaN} when it could not be measured. */
    record Usage(double machineBusy, double steal, double jvm, double appThreads, double laneThreads,
            double mariadb, double postgres, double others) {

        /** @return this usage with the application threads' share, which they measure themselves */
        Usage withAppThreads(double cores) {
            return new Usage(machineBusy, steal, jvm, cores, laneThreads, mariadb, postgres, others);
        }
    }

    /** Counters at one instant. */
    record Snapshot(long wallNanos, long machineTotal, long machineBusy, long machineSteal, long jvm, long mariadb,
            long postgres, long laneThreadNanos, boolean proc) {
    }

    CpuMeter() {
        if (threads.isThreadCpuTimeSupported() && !threads.isThreadCpuTimeEnabled()) {
            threads.setThreadCpuTimeEnabled(true);
        }
    }

    Snapshot snapshot() {
        long lanes = 0;
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info != null && info.getThreadName().startsWith("dualwrite-")) {
                lanes += Math.max(0, threads.getThreadCpuTime(info.getThreadId()));
            }
        }
        long[] machine = readMachine();
        long[] processes = readProcesses();
        boolean proc = machine != null && processes != null;
        return new Snapshot(System.nanoTime(), proc ? machine[0] : 0, proc ? machine[1] : 0, proc ? machine[2] : 0,
                proc ? processes[0] : 0, proc ? processes[1] : 0, proc ? processes[2] : 0, lanes, proc);
    }

    /** @return the CPU time the calling thread has used, in nanoseconds, or -1 if unsupported */
    long currentThreadNanos() {
        return threads.isCurrentThreadCpuTimeSupported() ? threads.getCurrentThreadCpuTime() : -1;
    }

    Usage between(Snapshot from, Snapshot to) {
        double wall = Math.max(1, to.wallNanos() - from.wallNanos());
        double lanes = (to.laneThreadNanos() - from.laneThreadNanos()) / wall;
        if (!from.proc() || !to.proc() || to.machineTotal() <= from.machineTotal()) {
            return new Usage(Double.NaN, Double.NaN, Double.NaN, Double.NaN, lanes, Double.NaN, Double.NaN, Double.NaN);
        }
        double jiffiesPerCore = (double) (to.machineTotal() - from.machineTotal()) / cores;
        double busy = (to.machineBusy() - from.machineBusy()) / jiffiesPerCore;
        double steal = (to.machineSteal() - from.machineSteal()) / jiffiesPerCore;
        // A server process that exits inside the window takes its jiffies with it: never below zero.
        double jvm = Math.max(0, (to.jvm() - from.jvm()) / jiffiesPerCore);
        double mariadb = Math.max(0, (to.mariadb() - from.mariadb()) / jiffiesPerCore);
        double postgres = Math.max(0, (to.postgres() - from.postgres()) / jiffiesPerCore);
        double others = Math.max(0, busy - jvm - mariadb - postgres);
        return new Usage(busy, steal, jvm, Double.NaN, lanes, mariadb, postgres, others);
    }

    /** @return total, busy (without idle, iowait and steal) and steal jiffies, or null without /proc */
    private static long[] readMachine() {
        try {
            String[] f = Files.readAllLines(PROC.resolve("stat")).get(0).trim().split("\\s+");
            long user = Long.parseLong(f[1]);
            long nice = Long.parseLong(f[2]);
            long system = Long.parseLong(f[3]);
            long idle = Long.parseLong(f[4]);
            long iowait = Long.parseLong(f[5]);
            long irq = Long.parseLong(f[6]);
            long softirq = Long.parseLong(f[7]);
            long steal = f.length > 8 ? Long.parseLong(f[8]) : 0;
            long busy = user + nice + system + irq + softirq;
            return new long[] {busy + idle + iowait + steal, busy, steal};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** @return jiffies used so far by this JVM, by mariadbd/mysqld and by postgres processes, or null without /proc */
    private static long[] readProcesses() {
        long jvm = 0;
        long mariadb = 0;
        long postgres = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(PROC, "[0-9]*")) {
            for (Path entry : entries) {
                String stat;
                try {
                    stat = Files.readString(entry.resolve("stat"));
                } catch (IOException | RuntimeException gone) {
                    continue;
                }
                int open = stat.indexOf('(');
                int close = stat.lastIndexOf(')');
                if (open < 0 || close < open) {
                    continue;
                }
                String command = stat.substring(open + 1, close);
                // After the command: state, ppid, ... utime is the 12th field, stime the 13th, and the
                // reaped children's cutime and cstime the 14th and 15th.
                String[] f = stat.substring(close + 2).split(" ");
                long used = Long.parseLong(f[11]) + Long.parseLong(f[12]);
                long children = Long.parseLong(f[13]) + Long.parseLong(f[14]);
                long pid = Long.parseLong(entry.getFileName().toString());
                if (pid == SELF) {
                    jvm += used;
                } else if (command.equals("mariadbd") || command.equals("mysqld")) {
                    mariadb += used + children;
                } else if (command.equals("postgres") || command.startsWith("postgres:")) {
                    // A backend that exits (its client disconnected) is reaped by the postmaster, whose
                    // cutime/cstime then carry its CPU: without them, that CPU would pass for a neighbour's.
                    postgres += used + children;
                }
            }
            return new long[] {jvm, mariadb, postgres};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
