package io.dualwrite.capture.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.capture.Change;
import io.dualwrite.capture.DualWrite;
import io.dualwrite.capture.DualWriteAspect;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.testing.Store;
import java.sql.Timestamp;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.aop.aspectj.annotation.AspectJProxyFactory;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * {@link DualWrite} and the capturing data source on together: each key is handed on once, in a
 * transaction (the change set is a set) and outside one (the aspect's call scope), where without the
 * scope each would hand the key on separately.
 */
class AnnotationAndCaptureTest {

    private CaptureFixture f;
    private Writer writer;

    @BeforeEach
    void setUp() throws Exception {
        f = new CaptureFixture(Store.H2, Store.H2, UnattributablePolicy.FAIL);
        AspectJProxyFactory factory = new AspectJProxyFactory(new Writer(f.jdbc));
        factory.setProxyTargetClass(true);
        factory.addAspect(new DualWriteAspect(f.capture));
        writer = factory.getProxy();
    }

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void inATransaction_eachKeyIsHandedOnOnce() {
        f.tx.executeWithoutResult(s -> {
            writer.save(1, "NEW");
            writer.save(1, "PAID");
        });

        assertThat(f.sink.afterCommit).containsExactly(List.of(new Change("t_order", RowKey.of(1L))));
        assertThat(f.differences()).isEmpty();
    }

    @Test
    void outsideATransaction_theStatementsAndTheAnnotationHandTheKeyOnOnce() {
        writer.save(2, "NEW");

        assertThat(f.sink.afterCommit).containsExactly(List.of(new Change("t_order", RowKey.of(2L))));
        assertThat(f.differences()).isEmpty();
    }

    @Test
    void outsideATransaction_aMethodThatThrowsAfterWriting_stillHandsTheKeyOn() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> writer.saveThenFail(3))
                .isInstanceOf(IllegalStateException.class);

        assertThat(f.sink.afterCommit).containsExactly(List.of(new Change("t_order", RowKey.of(3L))));
        assertThat(f.differences()).isEmpty();
    }

    /** Writes through the capturing data source and is annotated as well. Not final: it is proxied. */
    public static class Writer {

        private final JdbcTemplate jdbc;

        public Writer(JdbcTemplate jdbc) {
            this.jdbc = jdbc;
        }

        @DualWrite(table = "t_order", key = "#id")
        public void save(long id, String status) {
            Timestamp now = new Timestamp(System.currentTimeMillis());
            if (jdbc.update("UPDATE t_order SET status = ?, gmt_modified = ? WHERE id = ?", status, now, id) == 0) {
                jdbc.update("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (?, 1, ?, ?)", id, status,
                        now);
            }
        }

        @DualWrite(table = "t_order", key = "#id")
        public void saveThenFail(long id) {
            save(id, "NEW");
            throw new IllegalStateException("after the write");
        }
    }
}
