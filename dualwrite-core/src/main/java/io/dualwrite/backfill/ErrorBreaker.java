package io.dualwrite.backfill;

/**
 * The error-rate breaker: remembers whether each of the last N rows failed, and trips when the failed
 * share of a full window exceeds the limit. A window that has not filled yet counts the rows seen so
 * far, but only once it holds at least a tenth of N, so that the first bad row does not trip it.
 */
final class ErrorBreaker {

    private final boolean[] failed;
    private final double maxRate;
    private int next;
    private int seen;
    private int failures;

    ErrorBreaker(int windowRows, double maxRate) {
        this.failed = new boolean[windowRows];
        this.maxRate = maxRate;
    }

    /** Records a chunk's outcome. @return true if the breaker is now tripped */
    synchronized boolean record(int succeeded, int failedRows) {
        for (int i = 0; i < succeeded; i++) {
            add(false);
        }
        for (int i = 0; i < failedRows; i++) {
            add(true);
        }
        return tripped();
    }

    synchronized boolean tripped() {
        int window = Math.min(seen, failed.length);
        return window >= Math.max(1, failed.length / 10) && failures > maxRate * window;
    }

    synchronized double rate() {
        int window = Math.min(seen, failed.length);
        return window == 0 ? 0 : (double) failures / window;
    }

    synchronized void reset() {
        java.util.Arrays.fill(failed, false);
        next = 0;
        seen = 0;
        failures = 0;
    }

    private void add(boolean failure) {
        if (seen >= failed.length && failed[next]) {
            failures--;
        }
        failed[next] = failure;
        if (failure) {
            failures++;
        }
        next = (next + 1) % failed.length;
        seen++;
    }
}
