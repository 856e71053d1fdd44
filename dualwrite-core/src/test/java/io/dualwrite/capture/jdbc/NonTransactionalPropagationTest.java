package io.dualwrite.capture.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.capture.DualWrite;
import io.dualwrite.capture.DualWriteAspect;
import io.dualwrite.testing.Store;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.EnableAspectJAutoProxy;
import org.springframework.core.Ordered;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.annotation.Propagation;
import org.springframework.transaction.annotation.Transactional;

/**
 * Under {@code SUPPORTS}, {@code NOT_SUPPORTED} and {@code NEVER} Spring runs the method with
 * synchronization but no transaction: every write auto-commits, and nothing calls after-commit when the
 * method throws. Every such write must still be handed on, with {@link DualWrite} (the aspect inside the
 * transaction interceptor, where it sees the synchronization) and with transparent capture, and in
 * OUTBOX mode its outbox row must commit with it. A real Spring context, a real
 * {@code DataSourceTransactionManager} over the routing data source, OUTBOX on H2.
 */
class NonTransactionalPropagationTest {

    private static RoutedOutboxRig rig;
    private AnnotationConfigApplicationContext context;
    private Orders orders;

    @BeforeEach
    void startContext() throws Exception {
        rig = new RoutedOutboxRig(Store.H2, Store.H2, "prop");
        context = new AnnotationConfigApplicationContext(Config.class);
        orders = context.getBean(Orders.class);
    }

    @AfterEach
    void close() {
        context.close();
        rig.close();
    }

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> cases = Stream.builder();
        for (Propagation propagation : new Propagation[] {Propagation.SUPPORTS, Propagation.NOT_SUPPORTED,
                Propagation.NEVER}) {
            for (boolean annotated : new boolean[] {true, false}) {
                for (boolean throwing : new boolean[] {false, true}) {
                    cases.add(Arguments.of(propagation, annotated ? "@DualWrite" : "transparent capture", throwing));
                }
            }
        }
        return cases.build();
    }

    @ParameterizedTest(name = "{0}, {1}, method throws: {2}")
    @MethodSource("cases")
    void autoCommittedWrite_isHandedOnWhetherOrNotTheMethodThrows(Propagation propagation, String path,
            boolean throwing) throws Exception {
        boolean annotated = path.startsWith("@");
        Runnable call = () -> write(propagation, annotated, 41, throwing);

        if (throwing) {
            assertThatThrownBy(call::run).isSameAs(Orders.FAILURE);
        } else {
            call.run();
        }

        assertThat(rig.orders()).as("the write auto-committed").isEqualTo(1);
        assertThat(rig.outboxKeys()).as("its outbox row, waiting for the relay").hasSize(1);
        assertThat(rig.restart()).isTrue();
        assertThat(rig.differences()).isEmpty();
    }

    @Test
    void outboxInsertFailsUnderSupports_transparentCapture_theWriteRollsBackAndTheCallerSeesIt() throws Exception {
        rig.breakOutbox();

        assertThatThrownBy(() -> write(Propagation.SUPPORTS, false, 42, false))
                .hasStackTraceContaining("dualwrite_outbox");

        assertThat(rig.orders()).as("the write did not happen").isZero();
        rig.repairOutbox();
        assertThat(rig.restart()).isTrue();
        assertThat(rig.differences()).isEmpty();
    }

    @Test
    void annotationAndCaptureUnderSupports_nameTheKeyOnce_itsOutboxRowIsWrittenOnceWithTheWrite() throws Exception {
        orders.annotatedAndCapturedSupports(43);

        assertThat(rig.outboxRows()).isEqualTo(1);
        assertThat(rig.restart()).isTrue();
        assertThat(rig.differences()).isEmpty();
    }

    /**
     * Without transparent capture nothing could write the outbox row with the write: the annotation only
     * learns its key after the write has committed. So OUTBOX refuses the call before the method runs.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = Propagation.class, names = {"SUPPORTS", "NOT_SUPPORTED",
            "NEVER"})
    void annotatedWriteOutsideATransaction_withoutTransparentCapture_isRefusedBeforeItRuns(Propagation propagation) {
        context.getBean(DualWriteAspect.class).setTransparentCapture(false);

        assertThatThrownBy(() -> write(propagation, true, 44, false)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("runs outside a transaction, and dualwrite.mirror.mode=OUTBOX writes the"
                        + " outbox rows in the application's transaction")
                .hasMessageContaining("dualwrite.capture.transparent=true; nothing was written");

        assertThat(rig.orders()).as("the method never ran").isZero();
        assertThat(rig.outboxRows()).isZero();
    }

    /** Calls the proxied method for this propagation and path, from outside the bean as an application does. */
    private void write(Propagation propagation, boolean annotated, long id, boolean throwing) {
        switch (propagation) {
            case SUPPORTS -> {
                if (annotated) {
                    orders.annotatedSupports(id, throwing);
                } else {
                    orders.capturedSupports(id, throwing);
                }
            }
            case NOT_SUPPORTED -> {
                if (annotated) {
                    orders.annotatedNotSupported(id, throwing);
                } else {
                    orders.capturedNotSupported(id, throwing);
                }
            }
            case NEVER -> {
                if (annotated) {
                    orders.annotatedNever(id, throwing);
                } else {
                    orders.capturedNever(id, throwing);
                }
            }
            default -> throw new IllegalArgumentException(propagation.name());
        }
    }

    @Configuration
    @EnableAspectJAutoProxy
    @EnableTransactionManagement(order = Ordered.HIGHEST_PRECEDENCE)
    static class Config {
        @Bean
        PlatformTransactionManager transactionManager() {
            return rig.transactionManager;
        }

        @Bean
        DualWriteAspect dualWriteAspect() {
            // Inside the transaction interceptor: it runs while Spring's synchronization is active.
            DualWriteAspect aspect = new DualWriteAspect(rig.capture);
            aspect.setTransparentCapture(true); // the rig's data source captures
            return aspect;
        }

        @Bean
        Orders orders() {
            // Annotated methods write on the pool itself, so only the annotation names their keys.
            return new Orders(rig.jdbc, new JdbcTemplate(rig.source.dataSource()));
        }
    }

    /** A DAO as a team writes it; not final, it is proxied. */
    static class Orders {

        static final RuntimeException FAILURE = new IllegalStateException("application failure after the write");

        private final JdbcTemplate captured;
        private final JdbcTemplate plain;

        Orders(JdbcTemplate captured, JdbcTemplate plain) {
            this.captured = captured;
            this.plain = plain;
        }

        @Transactional(propagation = Propagation.SUPPORTS)
        @DualWrite(table = "t_order", key = "#id")
        public void annotatedSupports(long id, boolean throwing) {
            insert(plain, id, throwing);
        }

        @Transactional(propagation = Propagation.NOT_SUPPORTED)
        @DualWrite(table = "t_order", key = "#id")
        public void annotatedNotSupported(long id, boolean throwing) {
            insert(plain, id, throwing);
        }

        @Transactional(propagation = Propagation.NEVER)
        @DualWrite(table = "t_order", key = "#id")
        public void annotatedNever(long id, boolean throwing) {
            insert(plain, id, throwing);
        }

        @Transactional(propagation = Propagation.SUPPORTS)
        public void capturedSupports(long id, boolean throwing) {
            insert(captured, id, throwing);
        }

        @Transactional(propagation = Propagation.NOT_SUPPORTED)
        public void capturedNotSupported(long id, boolean throwing) {
            insert(captured, id, throwing);
        }

        @Transactional(propagation = Propagation.NEVER)
        public void capturedNever(long id, boolean throwing) {
            insert(captured, id, throwing);
        }

        @Transactional(propagation = Propagation.SUPPORTS)
        @DualWrite(table = "t_order", key = "#id")
        public void annotatedAndCapturedSupports(long id) {
            insert(captured, id, false);
        }

        private static void insert(JdbcTemplate jdbc, long id, boolean throwing) {
            jdbc.update(RoutedOutboxRig.INSERT, id, RoutedOutboxRig.now());
            if (throwing) {
                throw FAILURE;
            }
        }
    }
}
