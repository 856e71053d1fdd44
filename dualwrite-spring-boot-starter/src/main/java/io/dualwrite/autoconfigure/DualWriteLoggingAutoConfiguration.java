package io.dualwrite.autoconfigure;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import io.dualwrite.jdbc.LibraryWork;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.context.annotation.Bean;

/**
 * Keeps the library's own lock conflicts out of the application's log. An apply reads under a share lock
 * that fails at once when a writer holds the row, and retries later; MariaDB Connector/J logs every such
 * error packet at WARN ({@code Error: 1205-HY000: Lock wait timeout exceeded}), dozens a minute under
 * write load, which reads like a fault. With Logback, a filter drops those warnings while the thread runs
 * the library's own statements ({@link LibraryWork}); the application's own conflicts are logged as
 * before. {@code dualwrite.logging.quiet-lock-conflicts=false} turns it off. The conflicts stay visible as
 * the mirror's deferred-key counts.
 */
@AutoConfiguration
@ConditionalOnClass({LoggerContext.class, LibraryWork.class})
@ConditionalOnBooleanProperty(name = "dualwrite.logging.quiet-lock-conflicts", matchIfMissing = true)
public class DualWriteLoggingAutoConfiguration {

    /** Creates the configuration; Spring does. */
    public DualWriteLoggingAutoConfiguration() {
    }

    /**
     * Installs the filter in Logback's context, when Logback is the SLF4J binding.
     *
     * @return the installed filter, removed again when the context closes
     */
    @Bean
    LockConflictWarnings dualWriteLockConflictWarnings() {
        return new LockConflictWarnings(LoggerFactory.getILoggerFactory() instanceof LoggerContext context ? context
                : null);
    }

    /** The Logback filter: drops the driver's lock-conflict warnings raised by the library's own statements. */
    static final class LockConflictWarnings extends TurboFilter implements DisposableBean {

        /** The MariaDB Connector/J logger that reports every error packet. */
        static final String DRIVER_LOGGER = "org.mariadb.jdbc.message.server.ErrorPacket";
        /** Lock wait timeout (also NOWAIT on MariaDB), deadlock, and MySQL 8's NOWAIT. */
        private static final Set<Short> LOCK_CONFLICTS = Set.of((short) 1205, (short) 1213, (short) 3572);

        private final LoggerContext context;
        private final AtomicLong dropped = new AtomicLong();

        LockConflictWarnings(LoggerContext context) {
            this.context = context;
            setName("dualwrite-lock-conflicts");
            if (context != null) {
                context.addTurboFilter(this);
                start();
            }
        }

        @Override
        public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params,
                Throwable t) {
            if (level == Level.WARN && LibraryWork.inProgress() && DRIVER_LOGGER.equals(logger.getName())
                    && params != null && params.length > 0 && params[0] instanceof Short code
                    && LOCK_CONFLICTS.contains(code)) {
                dropped.incrementAndGet();
                return FilterReply.DENY;
            }
            return FilterReply.NEUTRAL;
        }

        /** @return how many warnings were dropped */
        long dropped() {
            return dropped.get();
        }

        @Override
        public void destroy() {
            if (context != null) {
                context.getTurboFilterList().remove(this);
            }
            stop();
        }
    }
}
