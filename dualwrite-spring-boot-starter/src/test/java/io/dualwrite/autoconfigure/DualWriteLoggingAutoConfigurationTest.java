package io.dualwrite.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.dualwrite.jdbc.LibraryWork;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * Issue 16, item 3: the library's own NOWAIT conflicts made MariaDB Connector/J log
 * {@code WARN ErrorPacket : Error: 1205-HY000: Lock wait timeout exceeded} dozens of times a run. On
 * MariaDB, a real conflict: the driver's warning is dropped inside {@link LibraryWork}, kept outside it,
 * and kept everywhere when the filter is switched off.
 */
class DualWriteLoggingAutoConfigurationTest {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(DualWriteLoggingAutoConfiguration.class));

    @Test
    void librarysOwnLockConflicts_areNotLoggedByTheDriver_theApplicationsAre() throws Exception {
        runner.run(context -> {
            assertThat(context).hasSingleBean(DualWriteLoggingAutoConfiguration.LockConflictWarnings.class);
            assertThat(warningsOfAConflict(true)).as("the library's own conflict").isZero();
            assertThat(warningsOfAConflict(false)).as("the application's conflict").isEqualTo(1);
        });
    }

    @Test
    void switchedOff_theDriverLogsEveryConflict() throws Exception {
        runner.withPropertyValues("dualwrite.logging.quiet-lock-conflicts=false").run(context -> {
            assertThat(context).doesNotHaveBean(DualWriteLoggingAutoConfiguration.LockConflictWarnings.class);
            assertThat(warningsOfAConflict(true)).as("the library's own conflict, unfiltered").isEqualTo(1);
        });
    }

    /** Holds a row under an update lock and reads it with a share lock NOWAIT, as an apply does. */
    private static long warningsOfAConflict(boolean asTheLibrary) throws SQLException {
        Logger driver = (Logger) LoggerFactory.getLogger(DualWriteLoggingAutoConfiguration.LockConflictWarnings.DRIVER_LOGGER);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        driver.addAppender(appender);
        // The tests' own Logback configuration keeps the driver at ERROR; an application's keeps WARN.
        Level configured = driver.getLevel();
        driver.setLevel(Level.WARN);
        try (TestDatabase db = TestDatabase.create(Store.MARIADB, "quiet_lock");
                Connection writer = db.dataSource().getConnection();
                Connection reader = db.dataSource().getConnection()) {
            db.execute("CREATE TABLE t_row (id INT PRIMARY KEY, note VARCHAR(20))");
            db.execute("INSERT INTO t_row VALUES (1, 'x')");
            writer.setAutoCommit(false);
            try (Statement statement = writer.createStatement()) {
                statement.executeUpdate("UPDATE t_row SET note = 'y' WHERE id = 1");
            }
            reader.setAutoCommit(false);
            try (Statement statement = reader.createStatement()) {
                if (asTheLibrary) {
                    try (LibraryWork.Scope own = LibraryWork.enter()) {
                        assertThatThrownBy(() -> statement.executeQuery(
                                "SELECT * FROM t_row WHERE id = 1 LOCK IN SHARE MODE NOWAIT")).isInstanceOf(SQLException.class);
                    }
                } else {
                    assertThatThrownBy(() -> statement.executeQuery(
                            "SELECT * FROM t_row WHERE id = 1 LOCK IN SHARE MODE NOWAIT")).isInstanceOf(SQLException.class);
                }
            }
            writer.rollback();
        } finally {
            driver.detachAppender(appender);
            driver.setLevel(configured);
        }
        return appender.list.stream().filter(event -> event.getLevel() == Level.WARN).count();
    }
}
