package io.dualwrite.autoconfigure;

import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.verify.ComparisonRules;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * {@code dualwrite.tables.<t>.compare-ignore}: the target columns the verifier leaves out, because the target
 * fills them itself. Also says at start-up which target columns are generated, and which of those would be
 * compared, so that the first reconcile does not report every row of a table as different.
 */
final class ComparedColumns {

    private static final Log log = LogFactory.getLog(ComparedColumns.class);

    private ComparedColumns() {
    }

    /**
     * Adds every table's {@code compare-ignore} columns to the rules.
     *
     * @throws DualWriteSettingException naming every column that neither the target table nor the source table has
     */
    static void ignore(ComparisonRules.Builder rules, DualWriteProperties properties, MappedTables tables) {
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, DualWriteProperties.Table> entry : properties.getTables().entrySet()) {
            List<String> columns = entry.getValue().getCompareIgnore();
            if (columns.isEmpty() || !tables.contains(entry.getKey())) {
                continue;
            }
            MappedTable table = tables.get(entry.getKey());
            String property = "dualwrite.tables." + entry.getKey() + ".compare-ignore";
            for (String column : columns) {
                if (column == null || column.isBlank()) {
                    problems.add(property + ": a column name is blank");
                } else if (table.target().table().column(column.trim()).isEmpty()
                        && table.source().table().column(column.trim()).isEmpty()) {
                    problems.add(property + ": column '" + column.trim() + "' does not exist in target table '"
                            + table.target().table().name() + "'");
                } else {
                    rules.ignore(table.name(), column.trim());
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new DualWriteSettingException("dualwrite.tables", String.join("\n", problems),
                    "Name target columns of the mapped table in dualwrite.tables.<table>.compare-ignore.");
        }
    }

    /**
     * Names the generated columns of each mapped target table. The library never writes them; one the mapping
     * fills from a source column is still compared with that column, so unless the source computes it the
     * same way every row differs: that one gets a warning suggesting {@code compare-ignore}.
     */
    static void logGeneratedColumns(DualWriteProperties properties, MappedTables tables) {
        for (MappedTable table : tables.all()) {
            Set<String> generated = table.target().table().generatedColumns();
            if (generated.isEmpty()) {
                continue;
            }
            Set<String> ignored = new LinkedHashSet<>();
            DualWriteProperties.Table settings = properties.getTables().get(table.name());
            if (settings != null) {
                settings.getCompareIgnore().forEach(c -> ignored.add(c.trim().toLowerCase(Locale.ROOT)));
            }
            String prefix = "dualwrite.tables." + table.name() + ": target table '" + table.target().table().name()
                    + "' computes generated columns " + generated + "; they are never written";
            if (table.mapping().transformer().isPresent()) {
                log.info(prefix + ", and compared only where the transformer returns them");
                continue;
            }
            Set<String> compared = new LinkedHashSet<>();
            for (String column : table.target().columns()) {
                String canonical = column.toLowerCase(Locale.ROOT);
                if (generated.contains(canonical) && !ignored.contains(canonical)) {
                    compared.add(canonical);
                }
            }
            if (compared.isEmpty()) {
                log.info(prefix + ", nor compared");
            } else {
                log.warn(prefix + ", but " + compared + " are mapped from source columns and so compared with them:"
                        + " unless the source computes them the same way, every row will differ. Leave them out of"
                        + " the comparison with dualwrite.tables." + table.name() + ".compare-ignore="
                        + String.join(",", compared));
            }
        }
    }
}
