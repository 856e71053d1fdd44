package io.dualwrite.testing;

import io.dualwrite.capture.ChangeRecorder;
import java.nio.ByteBuffer;
import java.sql.Timestamp;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Tables keyed by values that are not integers, as each store declares them, with the many forms an
 * application hands the same key over in (a {@code String} for a {@code uuid}, a padded {@code CHAR},
 * a {@code java.sql.Date} for a {@code DATE}, ...). Each table has the key columns, then {@code note}
 * and {@code gmt_modified}.
 */
public enum KeyKinds {

    /** PostgreSQL and H2 {@code uuid}; MariaDB {@code CHAR(36)}. */
    UUID_AS_TEXT("id") {
        @Override
        String keyColumns(Store store) {
            return "id " + (store == Store.MARIADB ? "CHAR(36)" : "UUID") + " NOT NULL";
        }

        @Override
        public Object[] stored(Store store, int i) {
            return new Object[] {store == Store.MARIADB ? uuid(i).toString() : uuid(i)};
        }

        @Override
        public Object recorded(int i, int form) {
            return switch (form % 3) {
                case 0 -> uuid(i).toString();
                case 1 -> uuid(i);
                default -> uuid(i).toString().toUpperCase(Locale.ROOT);
            };
        }
    },

    /** {@code uuid} everywhere: MariaDB's own {@code UUID} type (10.7 and later) too. */
    UUID_NATIVE("id") {
        @Override
        String keyColumns(Store store) {
            return "id UUID NOT NULL";
        }

        @Override
        public Object[] stored(Store store, int i) {
            return new Object[] {store == Store.MARIADB ? uuid(i).toString() : uuid(i)};
        }

        @Override
        public Object recorded(int i, int form) {
            return form % 2 == 0 ? uuid(i) : uuid(i).toString().toUpperCase(Locale.ROOT);
        }
    },

    /** PostgreSQL and H2 {@code uuid}; MariaDB {@code BINARY(16)}. */
    UUID_AS_BINARY("id") {
        @Override
        String keyColumns(Store store) {
            return "id " + (store == Store.MARIADB ? "BINARY(16)" : "UUID") + " NOT NULL";
        }

        @Override
        public Object[] stored(Store store, int i) {
            return new Object[] {store == Store.MARIADB ? bytes(uuid(i)) : uuid(i)};
        }

        @Override
        public Object recorded(int i, int form) {
            return switch (form % 3) {
                case 0 -> uuid(i);
                case 1 -> uuid(i).toString();
                default -> bytes(uuid(i));
            };
        }
    },

    /** {@code CHAR(8)} everywhere: PostgreSQL and H2 pad on read, MariaDB strips. */
    FIXED_CHAR("code") {
        @Override
        String keyColumns(Store store) {
            return "code CHAR(8) NOT NULL";
        }

        @Override
        public Object[] stored(Store store, int i) {
            return new Object[] {"k" + i};
        }

        @Override
        public Object recorded(int i, int form) {
            return form % 2 == 0 ? "k" + i : String.format("%-8s", "k" + i);
        }
    },

    /**
     * Text keys in mixed case, some starting with punctuation, under a case-insensitive collation where
     * the store has one ({@code utf8mb4_general_ci} on MariaDB, {@code VARCHAR_IGNORECASE} on H2) and an
     * exact one on PostgreSQL: the stores order these keys differently, which keyset pagination, a
     * checkpoint and a merge of two stores' key streams must all survive.
     */
    TEXT_CASE_INSENSITIVE("code") {
        @Override
        String keyColumns(Store store) {
            return "code " + switch (store) {
                case MARIADB -> "VARCHAR(20) COLLATE utf8mb4_general_ci";
                case H2 -> "VARCHAR_IGNORECASE(20)";
                default -> "VARCHAR(20)";
            } + " NOT NULL";
        }

        @Override
        public Object[] stored(Store store, int i) {
            return new Object[] {spelling(i)};
        }

        @Override
        public Object recorded(int i, int form) {
            return spelling(i);
        }

        private static String spelling(int i) {
            String[] words = {"alpha", "Bravo", "CHARLIE", "delta", "_echo", "Foxtrot", "golf", "[hotel", "India"};
            return words[i % words.length] + "-" + i;
        }
    },

    /** {@code VARBINARY(16)}, {@code bytea} on PostgreSQL. */
    BINARY("bin") {
        @Override
        String keyColumns(Store store) {
            return "bin " + (store == Store.POSTGRESQL ? "BYTEA" : "VARBINARY(16)") + " NOT NULL";
        }

        @Override
        public Object[] stored(Store store, int i) {
            return new Object[] {binary(i)};
        }

        @Override
        public Object recorded(int i, int form) {
            return binary(i);
        }
    },

    /** A composite key with a {@code DATE} part: (region, day, seq). */
    COMPOSITE_WITH_DATE("region", "sale_day", "seq") {
        @Override
        String keyColumns(Store store) {
            return "region VARCHAR(8) NOT NULL, sale_day DATE NOT NULL, seq INT NOT NULL";
        }

        @Override
        public Object[] stored(Store store, int i) {
            return new Object[] {"eu", day(i), i};
        }

        @Override
        public Object recorded(int i, int form) {
            return switch (form % 3) {
                case 0 -> List.of("eu", day(i), i);
                case 1 -> List.of("eu", java.sql.Date.valueOf(day(i)), (long) i);
                default -> List.of("eu", day(i).toString(), String.valueOf(i));
            };
        }
    },

    /**
     * A composite key with a {@code TIMESTAMP(3)} part ({@code DATETIME(3)} on MariaDB): (account,
     * booked_at). Every third instant falls on a whole second, which text forms write without a fraction.
     */
    COMPOSITE_WITH_TIMESTAMP("account", "booked_at") {
        @Override
        String keyColumns(Store store) {
            return "account VARCHAR(8) NOT NULL, booked_at " + OrderTable.timestampType(store) + " NOT NULL";
        }

        @Override
        public Object[] stored(Store store, int i) {
            return new Object[] {"acc" + i % 3, Timestamp.valueOf(instant(i))};
        }

        @Override
        public Object recorded(int i, int form) {
            LocalDateTime at = instant(i);
            return switch (form % 4) {
                case 0 -> List.of("acc" + i % 3, at);
                case 1 -> List.of("acc" + i % 3, Timestamp.valueOf(at));
                case 2 -> List.of("acc" + i % 3, at.toString());
                default -> List.of("acc" + i % 3, Timestamp.valueOf(at).toString());
            };
        }
    };

    private final List<String> columns;

    KeyKinds(String... columns) {
        this.columns = List.of(columns);
    }

    /** @return the key column names, in key order */
    public List<String> columns() {
        return columns;
    }

    abstract String keyColumns(Store store);

    /**
     * @param store the store the value is written to
     * @param i the row number
     * @return the key column values of row {@code i}, as the application binds them on that store
     */
    public abstract Object[] stored(Store store, int i);

    /**
     * @param i the row number
     * @param form which of the forms the application may use
     * @return the key of row {@code i} as an application might record it
     */
    public abstract Object recorded(int i, int form);

    /**
     * @param store the store
     * @param table the table name
     * @return {@code CREATE TABLE} for a table of this kind
     */
    public String ddl(Store store, String table) {
        return "CREATE TABLE " + table + " (" + keyColumns(store) + ", note VARCHAR(40),"
                + " gmt_modified " + OrderTable.timestampType(store) + " NOT NULL,"
                + " PRIMARY KEY (" + String.join(", ", columns) + "))";
    }

    /** @return {@code INSERT} of the key columns, note and gmt_modified, in that order */
    public String insert(String table) {
        return "INSERT INTO " + table + " (" + String.join(", ", columns) + ", note, gmt_modified) VALUES ("
                + "?, ".repeat(columns.size()) + "?, ?)";
    }

    /** @return {@code UPDATE ... SET note = ?, gmt_modified = ? WHERE key = ...} */
    public String update(String table) {
        return "UPDATE " + table + " SET note = ?, gmt_modified = ? WHERE " + keyCondition();
    }

    /** @return {@code DELETE ... WHERE key = ...} */
    public String delete(String table) {
        return "DELETE FROM " + table + " WHERE " + keyCondition();
    }

    private String keyCondition() {
        return String.join(" AND ", columns.stream().map(c -> c + " = ?").toList());
    }

    /**
     * The workload the key tests share: {@code rows} inserts, one transaction each, then one transaction
     * that deletes the even rows of the first half and updates the odd ones, so that each apply batch holds
     * deletes and live keys together. Every key is recorded in one of its forms, as it changes.
     *
     * @param store the source store
     * @param source the source's data source
     * @param table the table
     * @param recorder where the keys are recorded
     * @param rows how many rows to insert
     */
    public void insertThenDeleteAndUpdate(Store store, DataSource source, String table, ChangeRecorder recorder,
            int rows) {
        JdbcTemplate jdbc = new JdbcTemplate(source);
        TransactionTemplate transactions = new TransactionTemplate(new DataSourceTransactionManager(source));
        Timestamp now = Timestamp.valueOf("2026-03-04 05:06:07.890");
        for (int i = 0; i < rows; i++) {
            int row = i;
            transactions.executeWithoutResult(status -> {
                Object[] key = stored(store, row);
                Object[] values = Arrays.copyOf(key, key.length + 2);
                values[key.length] = "new";
                values[key.length + 1] = now;
                jdbc.update(insert(table), values);
                recorder.record(table, recorded(row, row));
            });
        }
        transactions.executeWithoutResult(status -> {
            List<Object> keys = new ArrayList<>();
            for (int i = 0; i < rows / 2; i++) {
                Object[] key = stored(store, i);
                if (i % 2 == 0) {
                    jdbc.update(delete(table), key);
                } else {
                    Object[] update = new Object[key.length + 2];
                    update[0] = "changed";
                    update[1] = now;
                    System.arraycopy(key, 0, update, 2, key.length);
                    jdbc.update(update(table), update);
                }
                keys.add(recorded(i, i + 1));
            }
            recorder.recordAll(table, keys);
        });
    }

    /**
     * The table's rows with driver-specific forms normalised (uuid text or bytes, padded text, date
     * and timestamp classes), keyed by their normalised key, for comparing two stores.
     *
     * @param db the database
     * @param table the table
     * @return normalised key to normalised row
     */
    public Map<String, List<Object>> rows(TestDatabase db, String table) {
        Map<String, List<Object>> rows = new TreeMap<>();
        for (Map<String, Object> row : db.queryForList("SELECT * FROM " + table)) {
            List<Object> values = new ArrayList<>();
            row.values().forEach(value -> values.add(normalise(value)));
            rows.put(values.subList(0, columns.size()).toString(), values);
        }
        return rows;
    }

    private static Object normalise(Object value) {
        if (value instanceof byte[] bytes) {
            return bytes.length == 16 ? uuid(bytes).toString() : HexFormat.of().formatHex(bytes);
        }
        if (value instanceof UUID uuid) {
            return uuid.toString();
        }
        if (value instanceof String text) {
            return text.stripTrailing().toLowerCase(Locale.ROOT);
        }
        if (value instanceof java.sql.Date date) {
            return date.toLocalDate().toString();
        }
        if (value instanceof Timestamp timestamp) {
            return timestamp.toLocalDateTime().truncatedTo(ChronoUnit.MILLIS).toString();
        }
        if (value instanceof LocalDateTime time) {
            return time.truncatedTo(ChronoUnit.MILLIS).toString();
        }
        if (value instanceof Number number) {
            return number.longValue();
        }
        return value;
    }

    /** @return the uuid of row {@code i}: random-looking, with upper-case letters when written in capitals */
    public static UUID uuid(int i) {
        return UUID.nameUUIDFromBytes(("row-" + i).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    static byte[] bytes(UUID uuid) {
        return ByteBuffer.allocate(16).putLong(uuid.getMostSignificantBits()).putLong(uuid.getLeastSignificantBits())
                .array();
    }

    static UUID uuid(byte[] bytes) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        return new UUID(buffer.getLong(), buffer.getLong());
    }

    /** Binary keys of different lengths, some ending in a zero byte. */
    static byte[] binary(int i) {
        byte[] bytes = new byte[3 + i % 5];
        Arrays.fill(bytes, (byte) (i * 7));
        bytes[0] = (byte) i;
        bytes[bytes.length - 1] = (byte) (i % 2 == 0 ? 0 : 0xA5);
        return bytes;
    }

    static LocalDateTime instant(int i) {
        LocalDateTime at = LocalDateTime.of(2026, 1, 1, 10, 0).plusSeconds(i);
        return i % 3 == 0 ? at : at.plusNanos((i * 37L % 1000) * 1_000_000L);
    }

    static LocalDate day(int i) {
        return LocalDate.of(2026, 1, 1).plusDays(i % 4);
    }
}
