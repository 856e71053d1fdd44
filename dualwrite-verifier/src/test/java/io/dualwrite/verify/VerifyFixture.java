package io.dualwrite.verify;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;

/** Two order tables, their mapping, the captured mismatch log and the events of one test. */
final class VerifyFixture implements AutoCloseable {

    final TestDatabase source;
    final TestDatabase target;
    final List<VerifyEvent> events = new CopyOnWriteArrayList<>();
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(MismatchLog.LOGGER);

    VerifyFixture(Store sourceStore, Store targetStore, String prefix) {
        this(sourceStore, targetStore, prefix, OrderTable.ddl(sourceStore, "t_order"));
    }

    /** With a source table of its own, e.g. {@link #preciseDdl}. */
    VerifyFixture(Store sourceStore, Store targetStore, String prefix, String sourceDdl) {
        this.source = TestDatabase.create(sourceStore, prefix + "_src");
        this.target = TestDatabase.create(targetStore, prefix + "_tgt");
        source.execute(sourceDdl);
        target.execute(OrderTable.ddl(targetStore, "t_order"));
        appender.start();
        logger.addAppender(appender);
    }

    /**
     * An order table more precise than {@link OrderTable#ddl}: amounts with four decimals, times with
     * microseconds, so that equal values differ in scale and precision between the stores.
     */
    static String preciseDdl(Store store) {
        return "CREATE TABLE t_order (id BIGINT NOT NULL PRIMARY KEY, user_id BIGINT NOT NULL,"
                + " status VARCHAR(32) NOT NULL, amount DECIMAL(14,4), note VARCHAR(200), gmt_modified "
                + (store == Store.MARIADB ? "DATETIME(6)" : "TIMESTAMP(6)") + " NOT NULL)";
    }

    MappedTables tables() throws Exception {
        return MappedTables.resolve(List.of(TableMapping.builder("t_order").build()), source.dataSource(),
                target.dataSource(), false);
    }

    VerifyEvent.Listener listener() {
        return events::add;
    }

    /** Inserts an order; {@code modified} is a {@code yyyy-MM-dd HH:mm:ss[.f]} text. */
    static void insert(TestDatabase db, long id, String status, String amount, String note, String modified) {
        db.execute("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified) VALUES (" + id + ", "
                + (id % 10) + ", '" + status + "', " + amount + ", " + (note == null ? "NULL" : "'" + note + "'")
                + ", TIMESTAMP '" + modified + "')");
    }

    /** @return the mismatch lines written so far */
    List<String> lines() {
        return appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    <T extends VerifyEvent> List<T> events(Class<T> type) {
        return events.stream().filter(type::isInstance).map(type::cast).toList();
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        source.close();
        target.close();
    }
}
