package io.dualwrite.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.autoconfigure.DualWriteProperties.Convert;
import io.dualwrite.autoconfigure.DualWriteProperties.ConverterType;
import io.dualwrite.autoconfigure.DualWriteProperties.Table;
import io.dualwrite.mapping.TableMapping;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;

/** {@code dualwrite.tables.<table>.convert.<column>.*} builds the converters the type check names. */
class TableMappingFactoryTest {

    @Test
    void convert_typesForColumnPairs_buildTheirConverters() {
        Table table = new Table();
        table.getConvert().put("features", convert(ConverterType.SET_TO_ARRAY, null));
        table.getConvert().put("active", convert(ConverterType.BOOLEAN_TO_NUMBER, null));
        table.getConvert().put("released_on", convert(ConverterType.DATE_TIME_TO_DATE, null));
        table.getConvert().put("rented_at", convert(ConverterType.WALL_CLOCK_TO_INSTANT, "Asia/Shanghai"));

        TableMapping mapping = new TableMappingFactory(new DefaultListableBeanFactory())
                .build(Map.of("t_film", table)).get(0);

        assertThat(mapping.converters()).hasEntrySatisfying("features",
                c -> assertThat(c).hasToString("Converters.setToArray()"))
                .hasEntrySatisfying("active", c -> assertThat(c).hasToString("Converters.booleanToNumber()"))
                .hasEntrySatisfying("released_on", c -> assertThat(c).hasToString("Converters.dateTimeToDate()"))
                .hasEntrySatisfying("rented_at",
                        c -> assertThat(c).hasToString("Converters.wallClockToInstant(Asia/Shanghai)"));
    }

    @Test
    void convert_wallClockToInstantWithAnUnknownZone_isRefusedNamingTheProperty() {
        Table table = new Table();
        table.getConvert().put("rented_at", convert(ConverterType.WALL_CLOCK_TO_INSTANT, "Mars/Olympus"));

        assertThatThrownBy(() -> new TableMappingFactory(new DefaultListableBeanFactory())
                .build(Map.of("t_film", table))).isInstanceOf(DualWriteSettingException.class)
                .hasMessageContaining("dualwrite.tables.t_film.convert.rented_at.zone: 'Mars/Olympus' is not a time"
                        + " zone");
    }

    @Test
    void immutableShardingColumn_isCarriedToTheMappingAndOffByDefault() {
        Table promised = new Table();
        promised.setImmutableShardingColumn(true);
        TableMappingFactory factory = new TableMappingFactory(new DefaultListableBeanFactory());

        assertThat(factory.build(Map.of("t_order", promised)).get(0).immutableShardingColumn()).isTrue();
        assertThat(factory.build(Map.of("t_order", new Table())).get(0).immutableShardingColumn()).isFalse();
    }

    private static Convert convert(ConverterType type, String zone) {
        Convert convert = new Convert();
        convert.setType(type);
        convert.setZone(zone);
        return convert;
    }
}
