package io.dualwrite.routing;

import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * This instance's requests that carried no routing key. A request without one takes the default route in
 * RAMP, whatever the percent: an application that binds no key moves no traffic at RAMP 100, and nothing
 * else would say so. So every admission of the routing data source (a transaction, or the first connection
 * of a {@link RoutingContext} scope) is counted here, in every phase, over a sliding minute; the share of
 * keyless ones feeds {@link RampGuards#keylessShareAtMost}, the endpoint and the meters. While RAMP is
 * active, keyless requests are also counted since start and logged, one WARN line a minute at most, with
 * the first application frame that took such a connection.
 *
 * <p>The counts are this instance's own: in a fleet, each instance judges the traffic it sees.
 */
public final class KeylessRequests {

    /** The window the share is taken over. */
    public static final long WINDOW_SECONDS = 60;

    private static final Log log = LogFactory.getLog(KeylessRequests.class);
    private static final long LOG_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);
    /** Frames of these packages are the library's or a framework's, never the application's call site. */
    private static final String[] NOT_THE_CALLER = {"io.dualwrite.routing.", "io.dualwrite.capture.",
        "io.dualwrite.mirror.", "io.dualwrite.autoconfigure.", "java.", "javax.", "jdk.", "sun.", "com.sun.",
        "org.springframework.", "org.hibernate.", "com.zaxxer.", "jakarta.", "org.aopalliance.", "org.aspectj."};

    private final LongSupplier nanos;
    private final long origin;
    private final Second[] seconds = new Second[(int) WINDOW_SECONDS];
    private final AtomicLong defaultRouted = new AtomicLong();
    private final AtomicLong sinceLastLine = new AtomicLong();
    private final AtomicLong nextLineNanos;

    KeylessRequests(LongSupplier nanos) {
        this.nanos = Objects.requireNonNull(nanos, "nanos");
        this.origin = nanos.getAsLong();
        this.nextLineNanos = new AtomicLong(origin);
        for (int i = 0; i < seconds.length; i++) {
            seconds[i] = new Second();
        }
    }

    /**
     * Counts one admission.
     *
     * @param keyless whether it carried no routing key
     * @param rules the rules it was admitted under
     */
    void admitted(boolean keyless, RoutingRules rules) {
        long now = nanos.getAsLong();
        long second = TimeUnit.NANOSECONDS.toSeconds(now - origin);
        Second slot = seconds[(int) (second % WINDOW_SECONDS)];
        synchronized (slot) {
            if (slot.second != second) {
                slot.second = second;
                slot.requests = 0;
                slot.keyless = 0;
            }
            slot.requests++;
            if (keyless) {
                slot.keyless++;
            }
        }
        if (keyless && rules.phase() == Phase.RAMP) {
            defaultRouted.incrementAndGet();
            long pending = sinceLastLine.incrementAndGet();
            long due = nextLineNanos.get();
            if (now - due >= 0 && nextLineNanos.compareAndSet(due, now + LOG_INTERVAL_NANOS)) {
                sinceLastLine.addAndGet(-pending);
                String caller = caller();
                log.warn("dualwrite: " + pending + " request(s) without a routing key took the default route "
                        + rules.defaultRoute() + " in " + rules + (caller == null ? "" : " (one from " + caller + ")")
                        + "; keyless requests do not move with the percent. Bind the key before the transaction"
                        + " opens: dualwrite.routing.web.* for web requests, @RoutingKey on a parameter or an entity"
                        + " field, or RoutingContext.run; " + defaultRouted.get() + " so far, and a step sending more"
                        + " traffic to the target is refused while their share of the last minute is above"
                        + " dualwrite.routing.max-keyless-share");
            }
        }
    }

    /**
     * The admissions of the last minute.
     *
     * @return how many there were, and how many carried no routing key
     */
    public Share lastMinute() {
        long second = TimeUnit.NANOSECONDS.toSeconds(nanos.getAsLong() - origin);
        long requests = 0;
        long keyless = 0;
        for (Second slot : seconds) {
            synchronized (slot) {
                if (slot.second > second - WINDOW_SECONDS && slot.second <= second) {
                    requests += slot.requests;
                    keyless += slot.keyless;
                }
            }
        }
        return new Share(requests, keyless);
    }

    /** @return how many requests without a routing key took the default route while RAMP was active, since start */
    public long defaultRouted() {
        return defaultRouted.get();
    }

    private static String caller() {
        return StackWalker.getInstance().walk(frames -> frames
                .filter(frame -> !libraryOrFramework(frame.getClassName()))
                .findFirst()
                .map(frame -> frame.getClassName() + "." + frame.getMethodName() + "(" + frame.getFileName() + ":"
                        + frame.getLineNumber() + ")")
                .orElse(null));
    }

    private static boolean libraryOrFramework(String className) {
        for (String prefix : NOT_THE_CALLER) {
            if (className.startsWith(prefix)) {
                return true;
            }
        }
        return className.contains("$$") || className.startsWith("jdk.proxy") || className.contains("$Proxy");
    }

    /**
     * Admissions over a window.
     *
     * @param requests every admission of the routing data source (a transaction or a routing scope)
     * @param keyless those without a routing key
     */
    public record Share(long requests, long keyless) {

        /** @return keyless over requests, 0..1; 0 when there were none */
        public double ratio() {
            return requests == 0 ? 0 : (double) keyless / requests;
        }

        @Override
        public String toString() {
            return keyless + " of " + requests + String.format(" (%.1f %%)", 100 * ratio());
        }
    }

    private static final class Second {
        private long second = -1;
        private long requests;
        private long keyless;
    }
}
