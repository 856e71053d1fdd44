package io.dualwrite.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.net.URL;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.io.UrlResource;
import org.springframework.core.io.support.PropertiesLoaderUtils;
import org.springframework.util.StringUtils;

/**
 * Start-up failures reach the operator as a description and an action that name the property. The
 * texts locked here are what an operator reads; change them deliberately.
 */
class DualWriteFailureAnalyzerTest {

    private TestDatabase source;
    private TestDatabase target;

    @BeforeEach
    void createStores() {
        source = TestDatabase.create(Store.H2, "analyzer_src");
        target = TestDatabase.create(Store.H2, "analyzer_tgt");
        source.execute(OrderTable.ddl(Store.H2, "t_order"));
        target.execute(OrderTable.ddl(Store.H2, "t_order"));
    }

    @AfterEach
    void dropStores() {
        source.close();
        target.close();
    }

    private ApplicationContextRunner runner(String... properties) {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
                        DualWriteAutoConfiguration.class))
                .withPropertyValues("spring.datasource.url=" + source.jdbcUrl(), "spring.datasource.username=sa",
                        "dualwrite.target.url=" + target.jdbcUrl(), "dualwrite.target.username=sa",
                        "dualwrite.tables.t_order.target-table=t_order")
                .withPropertyValues(properties);
    }

    /** Starts a context that must fail, and hands the analysis of its failure to the assertions. */
    private void failsWith(Consumer<FailureAnalysis> assertions, String... properties) {
        runner(properties).run(context -> {
            assertThat(context).hasFailed();
            FailureAnalysis analysis = new DualWriteFailureAnalyzer().analyze(context.getStartupFailure());
            assertThat(analysis).as("analysis of %s", context.getStartupFailure()).isNotNull();
            assertions.accept(analysis);
        });
    }

    @Test
    void unknownPhase_namesTheKeyAndThePhases() {
        failsWith(analysis -> {
            assertThat(analysis.getDescription()).startsWith("dualwrite.phase: 'SIDEWAYS' is not a valid value");
            assertThat(analysis.getAction())
                    .isEqualTo("Set dualwrite.phase to one of SOURCE_ONLY, DUAL_WRITE, RAMP, TARGET_ONLY.");
        }, "dualwrite.schema.create=true", "dualwrite.phase=SIDEWAYS");
    }

    @Test
    void percentOutOfRange_namesTheKeyAndTheRange() {
        failsWith(analysis -> {
            assertThat(analysis.getDescription()).startsWith(
                    "dualwrite.routing.percent: '150' is not a valid value: must be between 0 and 100, was 150");
            assertThat(analysis.getAction()).contains("dualwrite.routing.percent");
        }, "dualwrite.schema.create=true", "dualwrite.routing.percent=150");
    }

    /** Issue 18: the binder's name of the key dropped the table's underscore ('accaccount' for 'acc_account'). */
    @Test
    void unknownConverterType_namesTheKeyAsWritten_withTheTablesUnderscore() {
        failsWith(analysis -> {
            assertThat(analysis.getDescription())
                    .startsWith("dualwrite.tables.acc_account.convert.amount.type: 'NOPE' is not a valid value")
                    .doesNotContain("accaccount");
            assertThat(analysis.getAction()).isEqualTo("Set dualwrite.tables.acc_account.convert.amount.type to one"
                    + " of NUMBER_TO_STRING, CODE_TO_TEXT, JSON, DECIMAL_TO_MINOR_UNITS, TIMESTAMP_PRECISION,"
                    + " TIME_ZONE_SHIFT, BOOLEAN_TO_NUMBER, SET_TO_ARRAY, DATE_TIME_TO_DATE, WALL_CLOCK_TO_INSTANT.");
        }, "dualwrite.schema.create=true", "dualwrite.tables.acc_account.target-table=t_order",
                "dualwrite.tables.acc_account.convert.amount.type=NOPE");
    }

    @Test
    void unknownMirrorMode_namesTheKeyAndTheModes() {
        failsWith(analysis -> {
            assertThat(analysis.getDescription()).startsWith("dualwrite.mirror.mode: 'TELEPATHY' is not a valid value");
            assertThat(analysis.getAction()).isEqualTo("Set dualwrite.mirror.mode to one of SYNC, ASYNC, OUTBOX.");
        }, "dualwrite.schema.create=true", "dualwrite.mirror.mode=TELEPATHY");
    }

    @Test
    void settingTheLibraryRefuses_namesTheKey() {
        failsWith(analysis -> {
            assertThat(analysis.getDescription()).isEqualTo("dualwrite.mirror.lanes: must be between 1 and 256, was 0");
            assertThat(analysis.getAction()).isEqualTo("Correct dualwrite.mirror.lanes in the application's configuration.");
        }, "dualwrite.schema.create=true", "dualwrite.mirror.lanes=0");
    }

    @Test
    void mappingThatDoesNotFit_listsEveryProblemWithItsKey() {
        failsWith(analysis -> {
            assertThat(analysis.getDescription()).startsWith("dualwrite table mappings have 2 problems:")
                    .contains("dualwrite.tables.t_order.columns.amount: column 'amount_cents' does not exist in"
                            + " target table 't_order'")
                    .contains("dualwrite.tables.t_order.ignore-columns: column 'legacy' does not exist in source"
                            + " table 't_order'");
            assertThat(analysis.getAction()).startsWith("Fix each property named above");
        }, "dualwrite.schema.create=true", "dualwrite.tables.t_order.columns.amount=amount_cents",
                "dualwrite.tables.t_order.ignore-columns=legacy");
    }

    @Test
    void unknownTransformerBean_namesTheKey() {
        failsWith(analysis -> assertThat(analysis.getDescription())
                .startsWith("dualwrite.tables.t_order.transformer: no RowTransformer bean named 'nope'"),
                "dualwrite.schema.create=true", "dualwrite.tables.t_order.transformer=nope");
    }

    @Test
    void missingLibraryTables_stopStartUpWithTheirDdl() {
        failsWith(analysis -> {
            assertThat(analysis.getDescription()).contains("CREATE TABLE dualwrite_checkpoint")
                    .contains("CREATE TABLE dualwrite_backfill_failure");
            assertThat(analysis.getAction()).isEqualTo("Run the DDL above on the target database, or set"
                    + " dualwrite.schema.create=true to let dualwrite create its tables at start-up.");
        });
        assertThat(target.queryForObject("SELECT COUNT(*) FROM information_schema.tables WHERE"
                + " LOWER(table_name) = 'dualwrite_checkpoint'", Long.class)).isZero();
    }

    @Test
    void missingOutboxTable_stopsStartUpWithItsDdl() {
        failsWith(analysis -> {
            assertThat(analysis.getDescription()).contains("CREATE TABLE dualwrite_outbox");
            assertThat(analysis.getAction()).startsWith("Run the DDL above on the source database");
        }, "dualwrite.mirror.mode=OUTBOX");
    }

    @Test
    void allowListKeyWithoutBucket_isRefusedNamingTheList() {
        failsWith(analysis -> {
            assertThat(analysis.getDescription()).startsWith("dualwrite.routing.allow: dualwrite.routing.strategy=MODULO"
                    + " needs whole-number routing keys, but got 'alice'");
            assertThat(analysis.getAction()).isEqualTo("Correct dualwrite.routing.allow in the application's"
                    + " configuration.");
        }, "dualwrite.schema.create=true", "dualwrite.routing.allow=12,alice");
    }

    @Test
    void missingControlTable_stopsStartUpWithItsDdl() {
        failsWith(analysis -> {
            assertThat(analysis.getDescription()).contains("CREATE TABLE dualwrite_control");
            assertThat(analysis.getAction()).startsWith("Run the DDL above on the target database");
        }, "dualwrite.control.store=TABLE");
    }

    @Test
    void otherFailures_areLeftToSpringBoot() {
        assertThat(new DualWriteFailureAnalyzer().analyze(new IllegalStateException("not ours"))).isNull();
    }

    @Test
    void analyzer_isRegisteredForSpringBoot() throws Exception {
        List<String> registered = new ArrayList<>();
        for (URL url : Collections.list(getClass().getClassLoader().getResources("META-INF/spring.factories"))) {
            Properties factories = PropertiesLoaderUtils.loadProperties(new UrlResource(url));
            registered.addAll(StringUtils.commaDelimitedListToSet(
                    factories.getProperty(FailureAnalyzer.class.getName(), "")));
        }
        assertThat(registered).contains(DualWriteFailureAnalyzer.class.getName());
    }
}
