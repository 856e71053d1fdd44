package io.dualwrite.mirror;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link MirrorConfig}'s defaults and the messages that name a bad setting. */
class MirrorConfigTest {

    @Test
    void defaults_matchTheDocumentedValues() {
        MirrorConfig config = MirrorConfig.defaults();

        assertThat(config.mode()).isEqualTo(MirrorMode.ASYNC);
        assertThat(config.lanes()).isEqualTo(Math.min(4, Runtime.getRuntime().availableProcessors()));
        assertThat(config.queueCapacity()).isEqualTo(100_000);
        assertThat(config.batchSize()).isEqualTo(256);
        assertThat(config.syncTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(config.maxAttempts()).isEqualTo(10);
        assertThat(config.initialBackoff()).isEqualTo(Duration.ofMillis(100));
        assertThat(config.maxBackoff()).isEqualTo(Duration.ofSeconds(30));
        assertThat(config.lockRetryDelay()).isEqualTo(Duration.ofMillis(5));
        assertThat(config.maxLockRetries()).isEqualTo(1_000);
        assertThat(config.outboxPollInterval()).isEqualTo(Duration.ofMillis(500));
        assertThat(config.outboxBatchSize()).isEqualTo(500);
        assertThat(config.outboxTable()).isEqualTo("dualwrite_outbox");
        assertThat(config.createOutboxTable()).isFalse();
        assertThat(config.shutdownTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(config.waitLimit()).isEqualTo(Duration.ofSeconds(2));
        assertThat(config.applyTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(config.writeLockTimeout()).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void builder_everySetting_isKept() {
        MirrorConfig config = MirrorConfig.builder()
                .mode(MirrorMode.OUTBOX)
                .lanes(256)
                .queueCapacity(256)
                .batchSize(10_000)
                .syncTimeout(Duration.ofMillis(1))
                .maxAttempts(1_000)
                .initialBackoff(Duration.ofSeconds(1))
                .maxBackoff(Duration.ofSeconds(1))
                .lockRetryDelay(Duration.ofNanos(1))
                .maxLockRetries(1)
                .outboxPollInterval(Duration.ofSeconds(3))
                .outboxBatchSize(1)
                .outboxTable("_Outbox2")
                .createOutboxTable(true)
                .shutdownTimeout(Duration.ZERO)
                .build();

        assertThat(config.mode()).isEqualTo(MirrorMode.OUTBOX);
        assertThat(config.lanes()).isEqualTo(256);
        assertThat(config.queueCapacity()).isEqualTo(256);
        assertThat(config.batchSize()).isEqualTo(10_000);
        assertThat(config.syncTimeout()).isEqualTo(Duration.ofMillis(1));
        assertThat(config.maxAttempts()).isEqualTo(1_000);
        assertThat(config.initialBackoff()).isEqualTo(Duration.ofSeconds(1));
        assertThat(config.maxBackoff()).isEqualTo(Duration.ofSeconds(1));
        assertThat(config.lockRetryDelay()).isEqualTo(Duration.ofNanos(1));
        assertThat(config.maxLockRetries()).isEqualTo(1);
        assertThat(config.outboxPollInterval()).isEqualTo(Duration.ofSeconds(3));
        assertThat(config.outboxBatchSize()).isEqualTo(1);
        assertThat(config.outboxTable()).isEqualTo("_Outbox2");
        assertThat(config.createOutboxTable()).isTrue();
        assertThat(config.shutdownTimeout()).isEqualTo(Duration.ZERO);
    }

    static Stream<Arguments> outOfRange() {
        return Stream.of(
                bad("lanes(0)", b -> b.lanes(0), "dualwrite.mirror.lanes", "0"),
                bad("lanes(257)", b -> b.lanes(257), "dualwrite.mirror.lanes", "257"),
                bad("queueCapacity(0)", b -> b.queueCapacity(0), "dualwrite.mirror.queue-capacity", "0"),
                bad("batchSize(0)", b -> b.batchSize(0), "dualwrite.mirror.batch-size", "0"),
                bad("batchSize(10001)", b -> b.batchSize(10_001), "dualwrite.mirror.batch-size", "10001"),
                bad("syncTimeout(0)", b -> b.syncTimeout(Duration.ZERO), "dualwrite.mirror.sync-timeout", "PT0S"),
                bad("syncTimeout(-1s)", b -> b.syncTimeout(Duration.ofSeconds(-1)), "dualwrite.mirror.sync-timeout",
                        "PT-1S"),
                bad("syncTimeout(null)", b -> b.syncTimeout(null), "dualwrite.mirror.sync-timeout", "null"),
                bad("maxAttempts(0)", b -> b.maxAttempts(0), "dualwrite.mirror.max-attempts", "0"),
                bad("maxAttempts(1001)", b -> b.maxAttempts(1_001), "dualwrite.mirror.max-attempts", "1001"),
                bad("initialBackoff(0)", b -> b.initialBackoff(Duration.ZERO), "dualwrite.mirror.initial-backoff",
                        "PT0S"),
                bad("maxBackoff(-5ms)", b -> b.maxBackoff(Duration.ofMillis(-5)), "dualwrite.mirror.max-backoff",
                        "PT-0.005S"),
                bad("lockRetryDelay(0)", b -> b.lockRetryDelay(Duration.ZERO), "dualwrite.mirror.lock-retry-delay",
                        "PT0S"),
                bad("maxLockRetries(0)", b -> b.maxLockRetries(0), "dualwrite.mirror.max-lock-retries", "0"),
                bad("outboxPollInterval(0)", b -> b.outboxPollInterval(Duration.ZERO),
                        "dualwrite.mirror.outbox.poll-interval", "PT0S"),
                bad("outboxBatchSize(0)", b -> b.outboxBatchSize(0), "dualwrite.mirror.outbox.batch-size", "0"),
                bad("outboxBatchSize(10001)", b -> b.outboxBatchSize(10_001), "dualwrite.mirror.outbox.batch-size",
                        "10001"),
                bad("outboxTable(with space)", b -> b.outboxTable("dualwrite outbox"), "dualwrite.mirror.outbox.table",
                        "'dualwrite outbox'"),
                bad("outboxTable(with SQL)", b -> b.outboxTable("x; drop table y"), "dualwrite.mirror.outbox.table",
                        "'x; drop table y'"),
                bad("outboxTable(qualified)", b -> b.outboxTable("ops.outbox"), "dualwrite.mirror.outbox.table",
                        "'ops.outbox'"),
                bad("outboxTable(null)", b -> b.outboxTable(null), "dualwrite.mirror.outbox.table", "'null'"),
                bad("waitLimit(0)", b -> b.waitLimit(Duration.ZERO), "dualwrite.wait-limit", "PT0S"),
                bad("waitLimit(null)", b -> b.waitLimit(null), "dualwrite.wait-limit", "null"),
                bad("shutdownTimeout(-1ms)", b -> b.shutdownTimeout(Duration.ofMillis(-1)),
                        "dualwrite.mirror.shutdown-timeout", "PT-0.001S"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("outOfRange")
    void setter_outOfRange_isRejectedNamingThePropertyAndTheValue(Consumer<MirrorConfig.Builder> setter,
            String property, String value) {
        MirrorConfig.Builder builder = MirrorConfig.builder();

        assertThatThrownBy(() -> setter.accept(builder))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(property + ": ")
                .hasMessageContaining(value);
        assertThat(builder.build()).usingRecursiveComparison().isEqualTo(MirrorConfig.defaults());
    }

    @Test
    void lanes_outOfRange_saysTheAllowedRange() {
        assertThatThrownBy(() -> MirrorConfig.builder().lanes(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("dualwrite.mirror.lanes: must be between 1 and 256, was 0");
    }

    @Test
    void mode_null_isRejectedNamingTheProperty() {
        assertThatThrownBy(() -> MirrorConfig.builder().mode(null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("dualwrite.mirror.mode: must be SYNC, ASYNC or OUTBOX, was null");
    }

    @Test
    void build_syncTimeoutAboveWaitLimit_isRejectedNamingBoth() {
        assertThatThrownBy(() -> MirrorConfig.builder().syncTimeout(Duration.ofSeconds(3)).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("dualwrite.mirror.sync-timeout (PT3S) exceeds dualwrite.wait-limit (PT2S): ")
                .hasMessageContaining("Lower dualwrite.mirror.sync-timeout or raise dualwrite.wait-limit");
    }

    @Test
    void build_applyTimeoutAboveWaitLimit_isRejectedNamingBoth() {
        assertThatThrownBy(() -> MirrorConfig.builder().applyTimeout(Duration.ofSeconds(10)).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("dualwrite.mirror.apply-timeout (PT10S) exceeds dualwrite.wait-limit (PT2S): ")
                .hasMessageContaining("share locks that the application's writers of those rows wait for");
    }

    @Test
    void build_writeLockTimeoutAboveWaitLimit_isRejectedNamingBoth() {
        assertThatThrownBy(() -> MirrorConfig.builder().waitLimit(Duration.ofSeconds(1))
                .writeLockTimeout(Duration.ofMillis(1500)).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("dualwrite.mirror.write-lock-timeout (PT1.5S) exceeds dualwrite.wait-limit"
                        + " (PT1S): ");
    }

    @Test
    void build_lowerWaitLimit_bringsTheUnsetTimeoutsDownWithIt() {
        MirrorConfig config = MirrorConfig.builder().waitLimit(Duration.ofMillis(500)).build();

        assertThat(config.syncTimeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(config.applyTimeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(config.writeLockTimeout()).isEqualTo(Duration.ofMillis(500));
    }

    @Test
    void build_higherWaitLimit_allowsLongerTimeouts() {
        MirrorConfig config = MirrorConfig.builder().waitLimit(Duration.ofSeconds(10))
                .applyTimeout(Duration.ofSeconds(10)).syncTimeout(Duration.ofSeconds(5)).build();

        assertThat(config.applyTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(config.syncTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(config.writeLockTimeout()).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void build_maxBackoffShorterThanInitialBackoff_isRejectedNamingBoth() {
        MirrorConfig.Builder builder = MirrorConfig.builder()
                .maxBackoff(Duration.ofSeconds(1))
                .initialBackoff(Duration.ofSeconds(2));

        assertThatThrownBy(builder::build)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("dualwrite.mirror.max-backoff (PT1S) is shorter than dualwrite.mirror.initial-backoff"
                        + " (PT2S)");
    }

    @Test
    void build_maxBackoffEqualToInitialBackoff_isAccepted() {
        MirrorConfig config = MirrorConfig.builder()
                .initialBackoff(Duration.ofSeconds(2))
                .maxBackoff(Duration.ofSeconds(2))
                .build();

        assertThat(config.maxBackoff()).isEqualTo(config.initialBackoff());
    }

    @Test
    void build_queueSmallerThanTheLanes_isRejectedNamingBoth() {
        MirrorConfig.Builder builder = MirrorConfig.builder().lanes(8).queueCapacity(7);

        assertThatThrownBy(builder::build)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("dualwrite.mirror.queue-capacity (7) must be at least dualwrite.mirror.lanes (8)");
    }

    private static Arguments bad(String name, Consumer<MirrorConfig.Builder> setter, String property, String value) {
        return Arguments.of(Named.of(name, setter), property, value);
    }
}
