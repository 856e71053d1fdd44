package io.dualwrite.autoconfigure;

import io.dualwrite.autoconfigure.DualWriteProperties.Convert;
import io.dualwrite.autoconfigure.DualWriteProperties.KeyMappingSettings;
import io.dualwrite.autoconfigure.DualWriteProperties.Table;
import io.dualwrite.mapping.ColumnConverter;
import io.dualwrite.mapping.Converters;
import io.dualwrite.mapping.KeyMapping;
import io.dualwrite.mapping.RowTransformer;
import io.dualwrite.mapping.TableMapping;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.BeansException;

/**
 * Turns {@code dualwrite.tables.*} into {@link TableMapping}s. Every table is tried, so that one
 * start-up failure lists the problems of all of them.
 */
final class TableMappingFactory {

    /** The {@code version-column} value that declares a table without one. */
    static final String NO_VERSION_COLUMN = "none";

    private final BeanFactory beans;

    TableMappingFactory(BeanFactory beans) {
        this.beans = beans;
    }

    /**
     * Builds the mappings.
     *
     * @throws DualWriteSettingException listing every table setting that is wrong
     */
    List<TableMapping> build(Map<String, Table> tables) {
        List<TableMapping> mappings = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Table> entry : tables.entrySet()) {
            try {
                mappings.add(build(entry.getKey(), entry.getValue()));
            } catch (IllegalArgumentException | DateTimeException e) {
                problems.add(e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            throw new DualWriteSettingException("dualwrite.tables", String.join("\n", problems),
                    "Correct the dualwrite.tables properties named above.");
        }
        return mappings;
    }

    private TableMapping build(String name, Table table) {
        String prefix = "dualwrite.tables." + name;
        TableMapping.Builder builder = TableMapping.builder(name);
        if (table.getTargetTable() != null) {
            builder.targetTable(table.getTargetTable());
        }
        if (!table.getKeyColumns().isEmpty()) {
            builder.keyColumns(table.getKeyColumns().toArray(String[]::new));
        }
        if (table.getVersionColumn() != null) {
            if (table.getVersionColumn().trim().equalsIgnoreCase(NO_VERSION_COLUMN)) {
                builder.noVersionColumn();
            } else {
                builder.versionColumn(table.getVersionColumn());
            }
        }
        if (table.getRoutingColumn() != null) {
            builder.routingColumn(table.getRoutingColumn());
        }
        builder.immutableShardingColumn(table.isImmutableShardingColumn());
        table.getColumns().forEach(builder::rename);
        if (!table.getIgnoreColumns().isEmpty()) {
            builder.ignore(table.getIgnoreColumns().toArray(String[]::new));
        }
        if (table.getTransformer() != null) {
            builder.transformer(transformer(prefix, table.getTransformer()));
        }
        table.getConvert().forEach((column, convert) -> builder.convert(column,
                converter(prefix + ".convert." + column, convert)));
        table.getConstants().forEach(builder::constant);
        builder.keyMapping(keyMapping(prefix + ".key-mapping", table.getKeyMapping()));
        return builder.build();
    }

    private RowTransformer transformer(String prefix, String beanName) {
        try {
            return beans.getBean(beanName, RowTransformer.class);
        } catch (BeansException e) {
            throw new IllegalArgumentException(prefix + ".transformer: no RowTransformer bean named '" + beanName
                    + "' (" + e.getMessage() + ")", e);
        }
    }

    private static ColumnConverter converter(String property, Convert convert) {
        if (convert.getType() == null) {
            throw new IllegalArgumentException(property + ".type: a conversion needs a type, one of "
                    + List.of(DualWriteProperties.ConverterType.values()));
        }
        try {
            return switch (convert.getType()) {
                case NUMBER_TO_STRING -> Converters.numberToString(numberType(property, convert.getSourceType()));
                case CODE_TO_TEXT -> Converters.codeToText(convert.getCodes());
                case JSON -> Converters.json();
                case DECIMAL_TO_MINOR_UNITS -> Converters.decimalToMinorUnits(convert.getScale());
                case TIMESTAMP_PRECISION -> Converters.timestampPrecision(convert.getPrecision());
                case TIME_ZONE_SHIFT -> Converters.timeZoneShift(zone(property + ".source-zone", convert.getSourceZone()),
                        zone(property + ".target-zone", convert.getTargetZone()));
                case BOOLEAN_TO_NUMBER -> Converters.booleanToNumber();
                case SET_TO_ARRAY -> Converters.setToArray();
                case DATE_TIME_TO_DATE -> Converters.dateTimeToDate();
                case WALL_CLOCK_TO_INSTANT -> Converters.wallClockToInstant(convert.getZone() == null
                        ? ZoneId.systemDefault() : zone(property + ".zone", convert.getZone()));
            };
        } catch (IllegalArgumentException e) {
            if (e.getMessage() != null && e.getMessage().startsWith(property)) {
                throw e;
            }
            throw new IllegalArgumentException(property + ": " + e.getMessage(), e);
        }
    }

    private static Class<? extends Number> numberType(String property, String name) {
        String simple = name == null ? "" : name.trim();
        return switch (simple) {
            case "Long", "long" -> Long.class;
            case "Integer", "int" -> Integer.class;
            case "Short", "short" -> Short.class;
            case "Byte", "byte" -> Byte.class;
            case "BigInteger" -> BigInteger.class;
            case "BigDecimal" -> BigDecimal.class;
            case "Double", "double" -> Double.class;
            case "Float", "float" -> Float.class;
            default -> throw new IllegalArgumentException(property + ".source-type: '" + name
                    + "' is not one of Long, Integer, Short, Byte, BigInteger, BigDecimal, Double, Float");
        };
    }

    private static ZoneId zone(String property, String zone) {
        if (zone == null || zone.isBlank()) {
            throw new IllegalArgumentException(property + ": a time zone is required, e.g. UTC or Asia/Shanghai");
        }
        try {
            return ZoneId.of(zone.trim());
        } catch (DateTimeException e) {
            throw new IllegalArgumentException(property + ": '" + zone + "' is not a time zone (" + e.getMessage()
                    + ")", e);
        }
    }

    private static KeyMapping keyMapping(String property, KeyMappingSettings settings) {
        switch (settings.getType()) {
            case OFFSET:
                return KeyMapping.offset(settings.getOffset());
            case ID_MAP:
                try {
                    return KeyMapping.idMap(settings.getNamespace(), settings.getCachedKeys());
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(property + ": " + e.getMessage(), e);
                }
            case IDENTITY:
            default:
                return KeyMapping.identity();
        }
    }
}
