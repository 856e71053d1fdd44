package io.dualwrite.cdc;

import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTable;
import java.io.Serializable;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;

/**
 * A mapped source table as its rows appear in the binary log: the column layout read from
 * {@code information_schema} at start, and how each key column's logged value becomes the value of a
 * {@link RowKey}. The log carries no column names, only positions and types, so a table map whose column
 * count or key column types differ from this layout means the table changed underneath: the reader stops
 * that table's capture rather than read keys from the wrong columns.
 *
 * <p>A sharded table has one of these per physical table ({@link PhysicalTables}), each read from its own
 * database, all handing their keys to the one mapped table.
 */
final class CapturedTable {

    /** How a key column's logged value is read, and the binary log column types it may be logged as. */
    private enum Decoder {
        SIGNED(1, 2, 3, 8, 9),
        UNSIGNED(1, 2, 3, 8, 9),
        DECIMAL(0, 246),
        TEXT(15, 249, 250, 251, 252, 253, 254),
        BYTES(15, 249, 250, 251, 252, 253, 254),
        /** Micro-seconds of the day's midnight since the epoch, read as UTC wall-clock parts. */
        DATE(10, 14),
        /** Wall-clock time as micro-seconds since the epoch, read as UTC: the DATETIME column's own value. */
        DATETIME(12, 18),
        /** An instant, micro-seconds since the epoch. */
        TIMESTAMP(7, 17);

        private final int[] loggedTypes;

        Decoder(int... loggedTypes) {
            this.loggedTypes = loggedTypes;
        }

        boolean accepts(int loggedType) {
            for (int type : loggedTypes) {
                if (type == loggedType) {
                    return true;
                }
            }
            return false;
        }
    }

    private final MappedTable mapped;
    private final String database;
    private final String table;
    private final int columnCount;
    private final int[] keyPositions;
    private final Decoder[] decoders;
    private final long[] unsignedRange;
    private final Charset[] charsets;

    private CapturedTable(MappedTable mapped, String database, String table, int columnCount, int[] keyPositions,
            Decoder[] decoders, long[] unsignedRange, Charset[] charsets) {
        this.mapped = mapped;
        this.database = database;
        this.table = table;
        this.columnCount = columnCount;
        this.keyPositions = keyPositions;
        this.decoders = decoders;
        this.unsignedRange = unsignedRange;
        this.charsets = charsets;
    }

    /**
     * Reads the layout of a table whose rows the log shows, from the database that holds it.
     *
     * @param physical the table: a mapped table, or one physical table of a sharded one
     * @return the layout
     * @throws IllegalArgumentException if a key column's type cannot be read from the log yet; the message
     *     names the table, the column and its type
     */
    static CapturedTable read(PhysicalTables.Physical physical) throws SQLException {
        MappedTable mapped = physical.mapped();
        Connection connection = physical.connection();
        String schema = physical.shard() == null ? mapped.source().table().schema() : null;
        String database = schema != null ? schema : connection.getCatalog();
        String name = physical.table();
        List<String> columns = new ArrayList<>();
        List<String> dataTypes = new ArrayList<>();
        List<String> columnTypes = new ArrayList<>();
        List<String> charsetNames = new ArrayList<>();
        try (PreparedStatement select = connection.prepareStatement("/* dualwrite */ SELECT COLUMN_NAME, DATA_TYPE,"
                + " COLUMN_TYPE, CHARACTER_SET_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND"
                + " TABLE_NAME = ? ORDER BY ORDINAL_POSITION")) {
            select.setString(1, database);
            select.setString(2, name);
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    columns.add(rs.getString(1));
                    dataTypes.add(rs.getString(2).toLowerCase(Locale.ROOT));
                    columnTypes.add(rs.getString(3).toLowerCase(Locale.ROOT));
                    charsetNames.add(rs.getString(4));
                }
            }
        }
        List<String> keyColumns = mapped.source().keyColumns();
        int[] positions = new int[keyColumns.size()];
        Decoder[] decoders = new Decoder[keyColumns.size()];
        long[] ranges = new long[keyColumns.size()];
        Charset[] charsets = new Charset[keyColumns.size()];
        List<String> problems = new ArrayList<>();
        for (int k = 0; k < keyColumns.size(); k++) {
            int position = -1;
            for (int c = 0; c < columns.size(); c++) {
                if (columns.get(c).equalsIgnoreCase(keyColumns.get(k))) {
                    position = c;
                }
            }
            if (position < 0) {
                throw new IllegalStateException("change-data capture: key column '" + keyColumns.get(k)
                        + "' of table '" + database + "." + name + "' is not in information_schema.COLUMNS");
            }
            positions[k] = position;
            String dataType = dataTypes.get(position);
            boolean unsigned = columnTypes.get(position).contains("unsigned");
            switch (dataType) {
                case "tinyint", "smallint", "mediumint", "int", "integer", "bigint" -> {
                    decoders[k] = unsigned ? Decoder.UNSIGNED : Decoder.SIGNED;
                    ranges[k] = switch (dataType) {
                        case "tinyint" -> 0xFFL;
                        case "smallint" -> 0xFFFFL;
                        case "mediumint" -> 0xFFFFFFL;
                        case "int", "integer" -> 0xFFFFFFFFL;
                        default -> -1L;
                    };
                }
                case "decimal", "numeric" -> decoders[k] = Decoder.DECIMAL;
                case "char", "varchar", "tinytext", "text", "mediumtext", "longtext" -> {
                    Charset charset = charset(charsetNames.get(position));
                    if (charset == null) {
                        problems.add("key column '" + columns.get(position) + "' has character set "
                                + charsetNames.get(position) + ", which the log reader cannot decode yet (utf8mb3,"
                                + " utf8mb4, latin1, ascii)");
                    }
                    decoders[k] = Decoder.TEXT;
                    charsets[k] = charset;
                }
                case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob" -> decoders[k] = Decoder.BYTES;
                case "date" -> decoders[k] = Decoder.DATE;
                case "datetime" -> decoders[k] = Decoder.DATETIME;
                case "timestamp" -> decoders[k] = Decoder.TIMESTAMP;
                default -> problems.add("key column '" + columns.get(position) + "' is of type " + dataType
                        + ", which the log reader cannot read keys from yet (integers, decimals, text, binary, date,"
                        + " datetime and timestamp)");
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("dualwrite.capture.cdc: " + physical.describe() + ": "
                    + String.join("; ", problems) + "; leave change-data capture off for this migration, or key the"
                    + " table by a column of a supported type");
        }
        return new CapturedTable(mapped, database, name, columns.size(), positions, decoders, ranges, charsets);
    }

    private static Charset charset(String name) {
        if (name == null) {
            return null;
        }
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "utf8", "utf8mb3", "utf8mb4" -> StandardCharsets.UTF_8;
            case "latin1" -> Charset.forName("windows-1252");
            case "ascii" -> StandardCharsets.US_ASCII;
            default -> null;
        };
    }

    MappedTable mapped() {
        return mapped;
    }

    String database() {
        return database;
    }

    String table() {
        return table;
    }

    /**
     * Compares the layout of another physical table of the same mapped table with this one's.
     *
     * @return how the other's differs, for the message that stops the table's capture, or null when it is the same
     */
    String layoutDifference(CapturedTable other) {
        if (other.columnCount != columnCount || !java.util.Arrays.equals(other.keyPositions, keyPositions)
                || !java.util.Arrays.equals(other.decoders, decoders)
                || !java.util.Arrays.equals(other.unsignedRange, unsignedRange)
                || !java.util.Arrays.equals(other.charsets, charsets)) {
            return other.database + "." + other.table + " has " + other.columnCount + " columns with the key at "
                    + positions(other.keyPositions) + " as " + java.util.Arrays.toString(other.decoders) + ", "
                    + database + "." + table + " " + columnCount + " columns with the key at "
                    + positions(keyPositions) + " as " + java.util.Arrays.toString(decoders);
        }
        return null;
    }

    private static String positions(int[] zeroBased) {
        return java.util.Arrays.toString(java.util.Arrays.stream(zeroBased).map(p -> p + 1).toArray());
    }

    boolean matches(String database, String table) {
        return this.database.equalsIgnoreCase(database) && this.table.equalsIgnoreCase(table);
    }

    /**
     * Checks a table map against the layout read at start.
     *
     * @param loggedTypes the column types in the log's table map, one per column
     * @return why they differ, or null when they agree
     */
    String layoutMismatch(byte[] loggedTypes) {
        if (loggedTypes.length != columnCount) {
            return "the log's table map has " + loggedTypes.length + " columns, the table had " + columnCount
                    + " when the capture started";
        }
        for (int k = 0; k < keyPositions.length; k++) {
            int logged = loggedTypes[keyPositions[k]] & 0xFF;
            if (!decoders[k].accepts(logged)) {
                return "the log's table map has column type " + logged + " at key column position "
                        + (keyPositions[k] + 1) + ", which the table's key column did not have when the capture"
                        + " started";
            }
        }
        return null;
    }

    /**
     * Reads a row image's key.
     *
     * @param row the image's values, one per included column
     * @param included the columns the image includes
     * @return the key, or null when the image lacks a key column (an after image that left it unchanged)
     * @throws IllegalStateException if a key value cannot be read
     */
    RowKey keyOf(Serializable[] row, BitSet included) {
        Object[] values = new Object[keyPositions.length];
        for (int k = 0; k < keyPositions.length; k++) {
            int column = keyPositions[k];
            if (!included.get(column)) {
                return null;
            }
            int index = included.get(0, column).cardinality();
            values[k] = decode(k, row[index]);
        }
        return RowKey.of(values);
    }

    private Object decode(int k, Serializable value) {
        if (value == null) {
            return null;
        }
        return switch (decoders[k]) {
            case SIGNED -> value;
            case UNSIGNED -> {
                long raw = ((Number) value).longValue();
                if (unsignedRange[k] < 0) {
                    yield raw >= 0 ? (Object) raw : new BigInteger(Long.toUnsignedString(raw));
                }
                yield raw & unsignedRange[k];
            }
            case DECIMAL -> value instanceof BigDecimal ? value : new BigDecimal(value.toString());
            case TEXT -> value instanceof byte[] bytes ? new String(bytes, charsets[k]) : value.toString();
            case BYTES -> value;
            case DATE -> LocalDate.ofEpochDay(Math.floorDiv(micros(value), MICROS_PER_DAY));
            case DATETIME -> LocalDateTime.ofEpochSecond(Math.floorDiv(micros(value), 1_000_000L),
                    (int) Math.floorMod(micros(value), 1_000_000L) * 1000, ZoneOffset.UTC);
            case TIMESTAMP -> Instant.EPOCH.plus(micros(value), ChronoUnit.MICROS);
        };
    }

    private static final long MICROS_PER_DAY = 86_400_000_000L;

    /** The reader asks for dates and times as micro-seconds since the epoch (DATE_AND_TIME_AS_LONG_MICRO). */
    private static long micros(Serializable value) {
        if (!(value instanceof Long micros)) {
            throw new IllegalStateException("a date or time key value in the log is " + value.getClass().getName()
                    + ", not micro-seconds");
        }
        return micros;
    }
}
