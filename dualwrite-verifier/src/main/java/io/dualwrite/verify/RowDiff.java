package io.dualwrite.verify;

import io.dualwrite.jdbc.ColumnMetadata;
import io.dualwrite.jdbc.Row;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.KeyMapping;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.routing.Route;
import java.sql.Types;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.BiPredicate;

/**
 * Compares the rows of one mapped table in the target's shape: the source row goes through the table's
 * mapping ({@link MappedTable#toTarget}), then each compared target column is normalised by the
 * {@link ComparisonRules}. Immutable and thread-safe.
 */
final class RowDiff {

    private final MappedTable table;
    private final boolean plain;
    private final String[] columns;
    private final Values.Kind[] kinds;
    private final BiPredicate<Object, Object>[] equivalences;
    private final Set<String> masked;
    private final String versionColumn;
    private final ChronoUnit precision;
    private final ZoneId zone;

    @SuppressWarnings("unchecked")
    RowDiff(MappedTable table, ComparisonRules rules) {
        this.table = table;
        TableMapping mapping = table.mapping();
        this.plain = mapping.transformer().isEmpty() && mapping.renames().isEmpty() && table.converters().isEmpty()
                && mapping.splits().isEmpty() && mapping.constants().isEmpty()
                && mapping.keyMapping() == KeyMapping.identity();
        Set<String> ignored = targetNames(mapping, rules.ignored(table.name()));
        this.masked = targetNames(mapping, rules.masked(table.name()));
        Map<String, BiPredicate<Object, Object>> equal = rules.equivalences(table.name());
        Map<String, ColumnMetadata> types = table.target().table().columnsByCanonicalName();
        Map<String, ColumnMetadata> sourceTypes = table.source().table().columnsByCanonicalName();
        Map<String, ColumnMetadata> sourceOf = new LinkedHashMap<>();
        table.columnMap().forEach((sourceColumn, targetColumn) ->
                sourceOf.put(targetColumn, sourceTypes.get(sourceColumn)));
        List<String> compared = new ArrayList<>();
        for (String column : table.target().columns()) {
            String canonical = column.toLowerCase(Locale.ROOT);
            if (!ignored.contains(canonical)) {
                compared.add(canonical);
            }
        }
        this.columns = compared.toArray(String[]::new);
        this.kinds = new Values.Kind[columns.length];
        this.equivalences = new BiPredicate[columns.length];
        for (int i = 0; i < columns.length; i++) {
            kinds[i] = kind(types.get(columns[i]), sourceOf.get(columns[i]));
            equivalences[i] = equal.get(columns[i]);
        }
        String version = table.target().versionColumn();
        this.versionColumn = version == null ? null : version.toLowerCase(Locale.ROOT);
        this.precision = rules.timestampPrecision();
        this.zone = rules.zone();
    }

    /** Rule columns may be named by their source or their target name; the comparison uses target names. */
    private static Set<String> targetNames(TableMapping mapping, Set<String> names) {
        Set<String> result = new LinkedHashSet<>(names);
        for (String name : names) {
            String renamed = mapping.renames().get(name);
            if (renamed != null) {
                result.add(renamed.toLowerCase(Locale.ROOT));
            }
        }
        return result;
    }

    private static Values.Kind kind(ColumnMetadata column, ColumnMetadata source) {
        if (column == null) {
            return Values.Kind.PLAIN;
        }
        String type = column.typeName() == null ? "" : column.typeName().toLowerCase(Locale.ROOT);
        boolean padded = column.jdbcType() == Types.CHAR || column.jdbcType() == Types.NCHAR
                || type.equals("bpchar") || type.equals("char") || type.equals("character");
        boolean json = type.equals("json") || type.equals("jsonb");
        // A MySQL SET keeps its members in the order of its definition; an array or a text the other store keeps
        // in the order written. Either side being a SET makes the two a set of members.
        boolean unordered = type.equals("set") || source != null && "set".equalsIgnoreCase(source.typeName());
        boolean interval = type.equals("interval");
        boolean address = isAddress(type) || source != null && source.typeName() != null
                && isAddress(source.typeName().toLowerCase(Locale.ROOT));
        return padded || json || unordered || interval || address
                ? new Values.Kind(padded, json, unordered, interval, address) : Values.Kind.PLAIN;
    }

    private static boolean isAddress(String type) {
        return type.equals("inet") || type.equals("cidr") || type.equals("inet6") || type.equals("inet4");
    }

    MappedTable table() {
        return table;
    }

    /** @return the compared target columns, lower case */
    List<String> comparedColumns() {
        return List.of(columns);
    }

    /** Whether the mapping leaves rows as they are, so a source row compares without being mapped. */
    boolean plain() {
        return plain;
    }

    /**
     * Brings a source row to the target's shape.
     *
     * @throws IllegalArgumentException if the row does not map
     */
    Row toTargetShape(Row sourceRow) {
        return plain ? sourceRow : table.toTarget(sourceRow);
    }

    /** Brings source rows to the target's shape, in as few id-map round trips as the mapping allows. */
    List<Row> toTargetShape(List<Row> sourceRows) {
        return plain ? sourceRows : table.toTarget(sourceRows);
    }

    /**
     * @return the differing compared columns (target names); empty when the rows are the same. A column the
     *     mapped row leaves to the target (a transformer's row without it) is the target's to fill: not compared
     */
    List<String> differences(Row mappedSource, Row target) {
        Object sourceLayout = mappedSource.sharedLayout();
        Object targetLayout = target.sharedLayout();
        if (sourceLayout != null && targetLayout != null) {
            return differencesByPosition(mappedSource, target, positions(sourceLayout, targetLayout, mappedSource,
                    target));
        }
        List<String> differing = null;
        Map<String, Object> mapped = mappedSource.asMap();
        for (int i = 0; i < columns.length; i++) {
            if (!mapped.containsKey(columns[i])) {
                continue;
            }
            Object a = mappedSource.get(columns[i]);
            Object b = target.get(columns[i]);
            boolean same = equivalences[i] != null && equivalences[i].test(a, b)
                    || Values.same(a, b, kinds[i], precision, zone);
            if (!same) {
                if (differing == null) {
                    differing = new ArrayList<>(2);
                }
                differing.add(columns[i]);
            }
        }
        return differing == null ? List.of() : differing;
    }

    /**
     * The compared columns' positions in rows of two layouts (-1 in the source's for a column the mapped row
     * leaves to the target, -1 in the target's for one it lacks). Rows read by one statement share a layout, so a
     * chunk looks its names up once, not once per row and column; the last pair is kept (an immutable record
     * behind a volatile field, so the class stays thread-safe).
     */
    private int[][] positions(Object sourceLayout, Object targetLayout, Row source, Row target) {
        Positions known = lastPositions;
        if (known != null && known.source == sourceLayout && known.target == targetLayout) {
            return known.positions;
        }
        int[] inSource = new int[columns.length];
        int[] inTarget = new int[columns.length];
        for (int i = 0; i < columns.length; i++) {
            inSource[i] = source.position(columns[i]);
            inTarget[i] = target.position(columns[i]);
        }
        int[][] positions = {inSource, inTarget};
        lastPositions = new Positions(sourceLayout, targetLayout, positions);
        return positions;
    }

    private record Positions(Object source, Object target, int[][] positions) {
    }

    private volatile Positions lastPositions;

    /** {@link #differences} for two rows whose columns are found by position: the same checks, no name look-up. */
    private List<String> differencesByPosition(Row mappedSource, Row target, int[][] positions) {
        List<String> differing = null;
        int[] inSource = positions[0];
        int[] inTarget = positions[1];
        for (int i = 0; i < columns.length; i++) {
            if (inSource[i] < 0) {
                continue;
            }
            Object a = mappedSource.valueAt(inSource[i]);
            if (inTarget[i] < 0) {
                // As target.get would: a target row without a compared column is a caller's error.
                target.get(columns[i]);
            }
            Object b = target.valueAt(inTarget[i]);
            boolean same = equivalences[i] != null && equivalences[i].test(a, b)
                    || Values.same(a, b, kinds[i], precision, zone);
            if (!same) {
                if (differing == null) {
                    differing = new ArrayList<>(2);
                }
                differing.add(columns[i]);
            }
        }
        return differing == null ? List.of() : differing;
    }

    /** @return the row's version (target-shaped row), or {@code null} */
    Object version(Row targetShaped) {
        return targetShaped == null || versionColumn == null || !targetShaped.has(versionColumn) ? null
                : targetShaped.get(versionColumn);
    }

    /** @return the sign of the mapped source row's version against the target row's; 0 when unknown */
    int compareVersions(Row mappedSource, Row target) {
        return Values.compareVersions(version(mappedSource), version(target), zone);
    }

    /** Builds the mismatch, leaving masked columns' values out. */
    Mismatch mismatch(RowKey sourceKey, Mismatch.Kind kind, Route primary, Row mappedSource, Row target,
            List<String> differing) {
        Map<String, Object> sourceValues = new LinkedHashMap<>();
        Map<String, Object> targetValues = new LinkedHashMap<>();
        Set<String> maskedDiffering = new LinkedHashSet<>();
        for (String column : differing) {
            if (masked.contains(column)) {
                maskedDiffering.add(column);
            } else {
                sourceValues.put(column, mappedSource.get(column));
                targetValues.put(column, target.get(column));
            }
        }
        boolean versionMasked = versionColumn != null && masked.contains(versionColumn);
        return new Mismatch(table.name(), sourceKey, kind, primary, differing, maskedDiffering, sourceValues,
                targetValues, versionMasked ? null : version(mappedSource), versionMasked ? null : version(target));
    }
}
