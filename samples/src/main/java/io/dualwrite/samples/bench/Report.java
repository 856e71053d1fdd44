package io.dualwrite.samples.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The benchmark's output, built once and rendered twice: as aligned plain text for the terminal and as
 * Markdown for BENCHMARKS.md, so the two never disagree.
 */
final class Report {

    private static final Pattern NUMERIC = Pattern.compile("[-+]?[0-9.,]+[a-z%]*|n/a|-");

    private final List<Block> blocks = new ArrayList<>();

    private sealed interface Block permits Heading, Text, Table {
    }

    private record Heading(String title) implements Block {
    }

    private record Text(String text) implements Block {
    }

    /** A table; columns whose every cell is a number (or n/a) are right-aligned. */
    static final class Table implements Block {
        private final List<String> headers;
        private final List<List<String>> rows = new ArrayList<>();

        Table(String... headers) {
            this.headers = List.of(headers);
        }

        Table row(Object... cells) {
            if (cells.length != headers.size()) {
                throw new IllegalArgumentException("row has " + cells.length + " cells, table has " + headers.size()
                        + " columns");
            }
            rows.add(Arrays.stream(cells).map(String::valueOf).toList());
            return this;
        }

        private boolean numeric(int column) {
            return !rows.isEmpty() && rows.stream().allMatch(r -> NUMERIC.matcher(r.get(column)).matches());
        }
    }

    Report heading(String title) {
        blocks.add(new Heading(title));
        return this;
    }

    Report text(String text) {
        blocks.add(new Text(text));
        return this;
    }

    Report table(Table table) {
        blocks.add(table);
        return this;
    }

    String toText() {
        StringBuilder out = new StringBuilder();
        for (Block block : blocks) {
            if (block instanceof Heading heading) {
                out.append('\n').append(heading.title()).append('\n')
                        .append("=".repeat(heading.title().length())).append('\n');
            } else if (block instanceof Text text) {
                out.append(text.text()).append('\n');
            } else if (block instanceof Table table) {
                int[] widths = new int[table.headers.size()];
                boolean[] right = new boolean[widths.length];
                for (int c = 0; c < widths.length; c++) {
                    widths[c] = table.headers.get(c).length();
                    for (List<String> row : table.rows) {
                        widths[c] = Math.max(widths[c], row.get(c).length());
                    }
                    right[c] = table.numeric(c);
                }
                appendLine(out, table.headers, widths, right);
                StringBuilder rule = new StringBuilder();
                for (int c = 0; c < widths.length; c++) {
                    rule.append(c == 0 ? "" : "  ").append("-".repeat(widths[c]));
                }
                out.append(rule).append('\n');
                for (List<String> row : table.rows) {
                    appendLine(out, row, widths, right);
                }
                out.append('\n');
            }
        }
        return out.toString();
    }

    String toMarkdown() {
        StringBuilder out = new StringBuilder();
        for (Block block : blocks) {
            if (block instanceof Heading heading) {
                out.append("\n#### ").append(heading.title()).append("\n\n");
            } else if (block instanceof Text text) {
                out.append(text.text()).append("\n\n");
            } else if (block instanceof Table table) {
                out.append("| ").append(String.join(" | ", table.headers)).append(" |\n|");
                for (int c = 0; c < table.headers.size(); c++) {
                    out.append(table.numeric(c) ? "---:|" : "---|");
                }
                out.append('\n');
                for (List<String> row : table.rows) {
                    out.append("| ").append(String.join(" | ", row)).append(" |\n");
                }
                out.append('\n');
            }
        }
        return out.toString();
    }

    private static void appendLine(StringBuilder out, List<String> cells, int[] widths, boolean[] right) {
        StringBuilder line = new StringBuilder();
        for (int c = 0; c < cells.size(); c++) {
            String cell = cells.get(c);
            String pad = " ".repeat(widths[c] - cell.length());
            line.append(c == 0 ? "" : "  ").append(right[c] ? pad + cell : cell + pad);
        }
        out.append(line.toString().stripTrailing()).append('\n');
    }

    /** @return nanoseconds as whole microseconds with thousands separators, or n/a */
    static String micros(double nanos) {
        return nanos < 0 || Double.isNaN(nanos) ? "n/a" : String.format(Locale.ROOT, "%,d", Math.round(nanos / 1e3));
    }

    /** @return nanoseconds as milliseconds with one decimal, or n/a */
    static String millis(double nanos) {
        return nanos < 0 || Double.isNaN(nanos) ? "n/a" : String.format(Locale.ROOT, "%,.1f", nanos / 1e6);
    }

    static String ratio(double value) {
        return Double.isNaN(value) || Double.isInfinite(value) ? "n/a" : String.format(Locale.ROOT, "%.2f", value);
    }

    static String cores(double value) {
        return Double.isNaN(value) ? "n/a" : String.format(Locale.ROOT, "%.2f", value);
    }

    static String count(double value) {
        return Double.isNaN(value) ? "n/a" : String.format(Locale.ROOT, "%,d", Math.round(value));
    }
}
