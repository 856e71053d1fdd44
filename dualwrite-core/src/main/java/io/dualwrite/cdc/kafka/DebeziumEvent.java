package io.dualwrite.cdc.kafka;

import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTable;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads one record of a Debezium change topic, as Kafka Connect's {@code JsonConverter} wrote it (with or
 * without the {@code schemas.enable} envelope), for the row key it names. Only the key is taken: the row
 * images are never applied, the mirror reads the row's current state. A record is refused, never guessed
 * at, when its key does not consist of exactly the mapped table's key columns (the table's key changed),
 * when it is a schema change or a truncation, when its {@code source.table} is another table, or when a key
 * value is of a kind this reader does not decode.
 */
final class DebeziumEvent {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static final String DECIMAL = "org.apache.kafka.connect.data.Decimal";

    /**
     * What a record says: the key to hand over, or that it is the library's own write (an echo, not handed
     * over), or why it is refused.
     */
    record Outcome(RowKey key, boolean tombstone, boolean echo, String refusal) {

        static Outcome refused(String why) {
            return new Outcome(null, false, false, why);
        }

        boolean isRefused() {
            return refusal != null;
        }
    }

    private final MappedTable table;
    private final String tableName;
    private final List<String> keyColumns;

    DebeziumEvent(MappedTable table) {
        this.table = table;
        this.tableName = table.source().table().name();
        this.keyColumns = table.source().keyColumns();
    }

    /**
     * Reads a record.
     *
     * @param key the record's key bytes, or null
     * @param value the record's value bytes, or null for a tombstone
     * @return the row key (a tombstone's too: the row's absence is applied like a delete's), or the refusal
     */
    Outcome read(byte[] key, byte[] value) {
        // The value first: a schema change event or another table's change is named as such, rather than as
        // a key of the wrong fields.
        boolean tombstone = value == null;
        boolean echo = false;
        if (value != null) {
            String problem;
            try {
                JsonNode node = JSON.readTree(value);
                problem = value(node);
                echo = problem == null && isEcho(node);
            } catch (JacksonException e) {
                return Outcome.refused("the record value is not JSON (Kafka Connect's JsonConverter): "
                        + e.getOriginalMessage());
            }
            if (problem != null && !problem.isEmpty()) {
                return Outcome.refused(problem);
            }
            tombstone = problem != null;
        }
        if (key == null) {
            return Outcome.refused("a record without a key: Debezium writes none for a table without a primary"
                    + " key, and the mirror cannot tell which row changed");
        }
        try {
            KeyOrProblem parsed = key(JSON.readTree(key));
            return parsed.problem != null ? Outcome.refused(parsed.problem)
                    : new Outcome(parsed.key, tombstone, echo, null);
        } catch (JacksonException e) {
            return Outcome.refused("the record key is not JSON (Kafka Connect's JsonConverter): "
                    + e.getOriginalMessage());
        }
    }

    private record KeyOrProblem(RowKey key, String problem) {
    }

    private KeyOrProblem key(JsonNode node) {
        JsonNode payload = node;
        Map<String, JsonNode> fieldSchemas = Map.of();
        if (isEnvelope(node)) {
            payload = node.get("payload");
            fieldSchemas = fieldSchemas(node.get("schema"));
        }
        if (payload == null || !payload.isObject()) {
            return new KeyOrProblem(null, "the record key is not a JSON object of key columns: " + abbreviate(node));
        }
        Map<String, JsonNode> fields = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> field : payload.properties()) {
            fields.put(field.getKey().toLowerCase(Locale.ROOT), field.getValue());
        }
        List<String> problems = new ArrayList<>();
        Object[] values = new Object[keyColumns.size()];
        for (int k = 0; k < keyColumns.size(); k++) {
            String column = keyColumns.get(k).toLowerCase(Locale.ROOT);
            JsonNode value = fields.remove(column);
            if (value == null) {
                problems.add("the key has no field '" + keyColumns.get(k) + "', a key column of the table");
                continue;
            }
            Object decoded = decode(value, fieldSchemas.get(column), keyColumns.get(k), problems);
            values[k] = decoded;
        }
        if (!fields.isEmpty()) {
            problems.add("the key has field(s) " + fields.keySet() + " that are not key columns of the table (its"
                    + " key is " + keyColumns + "): the table's key changed, a schema change");
        }
        if (!problems.isEmpty()) {
            return new KeyOrProblem(null, String.join("; ", problems));
        }
        RowKey rowKey = RowKey.of(values);
        try {
            return new KeyOrProblem(table.source().canonicalKey(rowKey), null);
        } catch (IllegalArgumentException e) {
            return new KeyOrProblem(null, "the key " + rowKey + " does not fit the table's key columns: "
                    + e.getMessage());
        }
    }

    private static boolean isEnvelope(JsonNode node) {
        return node.isObject() && node.size() == 2 && node.has("schema") && node.has("payload");
    }

    private static Map<String, JsonNode> fieldSchemas(JsonNode schema) {
        Map<String, JsonNode> schemas = new LinkedHashMap<>();
        JsonNode fields = schema == null ? null : schema.get("fields");
        if (fields != null && fields.isArray()) {
            for (JsonNode field : fields) {
                JsonNode name = field.get("field");
                if (name != null && name.isString()) {
                    schemas.put(name.asString().toLowerCase(Locale.ROOT), field);
                }
            }
        }
        return schemas;
    }

    private static Object decode(JsonNode value, JsonNode schema, String column, List<String> problems) {
        String logical = schema == null || schema.get("name") == null ? null : schema.get("name").asString();
        String type = schema == null || schema.get("type") == null ? null : schema.get("type").asString();
        if (value.isNull()) {
            problems.add("key column '" + column + "' is null");
            return null;
        }
        if (DECIMAL.equals(logical)) {
            // decimal.handling.mode=precise: the unscaled value's two's-complement bytes, in base64.
            JsonNode scale = schema.path("parameters").path("scale");
            if (!value.isString() || scale.isMissingNode()) {
                problems.add("key column '" + column + "' is a Decimal without its bytes or scale");
                return null;
            }
            try {
                byte[] unscaled = Base64.getDecoder().decode(value.asString());
                return new BigDecimal(new BigInteger(unscaled), Integer.parseInt(scale.asString()));
            } catch (IllegalArgumentException e) {
                problems.add("key column '" + column + "' is a Decimal whose value is not base64: " + value);
                return null;
            }
        }
        if (logical != null && (logical.startsWith("io.debezium.time.")
                || logical.startsWith("org.apache.kafka.connect.data."))) {
            problems.add("key column '" + column + "' is logged as " + logical + ", which this consumer does not"
                    + " read keys from yet (integers, decimals, text, binary and booleans)");
            return null;
        }
        if (value.isIntegralNumber()) {
            return value.canConvertToLong() ? (Object) value.asLong() : value.bigIntegerValue();
        }
        if (value.isNumber()) {
            return value.decimalValue();
        }
        if (value.isBoolean()) {
            return value.asBoolean();
        }
        if (value.isString()) {
            if ("bytes".equals(type)) {
                try {
                    return Base64.getDecoder().decode(value.asString());
                } catch (IllegalArgumentException e) {
                    problems.add("key column '" + column + "' is bytes whose value is not base64: " + value);
                    return null;
                }
            }
            return value.asString();
        }
        problems.add("key column '" + column + "' has a value this consumer does not read keys from: "
                + abbreviate(value) + (logical == null ? "" : " (" + logical + ")"));
        return null;
    }

    /**
     * Reads a value for what it means for its key.
     *
     * @return null for a row change (c, r, u, d), empty for a value without a payload (a tombstone), else
     *     why it is refused
     */
    private String value(JsonNode node) {
        JsonNode payload = isEnvelope(node) ? node.get("payload") : node;
        if (payload == null || payload.isNull()) {
            return "";
        }
        if (!payload.isObject()) {
            return "the record value is not a Debezium change event: " + abbreviate(node);
        }
        if (payload.has("ddl") || payload.has("tableChanges")) {
            return "a schema change event on the table's topic (" + abbreviate(payload.get("ddl")) + "): the"
                    + " table's layout may have changed under the mapping";
        }
        JsonNode source = payload.get("source");
        if (source != null && source.isObject() && source.has("table") && !source.get("table").isNull()
                && !source.get("table").asString().equalsIgnoreCase(tableName)) {
            return "a change of table '" + source.get("table").asString() + "', which is not the mapped table '"
                    + tableName + "' this topic was configured for (check dualwrite.capture.cdc.kafka.topics)";
        }
        JsonNode op = payload.get("op");
        if (op == null || !op.isString()) {
            return "the record value has no Debezium 'op' field; fields " + fieldNames(payload);
        }
        return switch (op.asString()) {
            case "c", "r", "u", "d" -> null;
            case "t" -> "a TRUNCATE of the table: Debezium names no keys for it, so the mirror cannot tell which"
                    + " rows to delete";
            default -> "an unknown Debezium operation '" + op.asString() + "'";
        };
    }

    /**
     * Whether a row change was written by the library itself (the reverse mirror or a repair writing into this
     * store): Debezium's MySQL connector with {@code include.query=true} (on MariaDB with
     * {@code binlog_annotate_row_events}) copies the statement into {@code source.query}, and every statement of
     * the library starts with {@link Dialect#MARKER}. Other connectors carry no statement; their echoes are handed
     * over, and the apply, reading the row's current state, finds nothing to change.
     */
    private static boolean isEcho(JsonNode node) {
        JsonNode payload = isEnvelope(node) ? node.get("payload") : node;
        JsonNode source = payload.get("source");
        JsonNode query = source != null && source.isObject() ? source.get("query") : null;
        return query != null && query.isString() && query.asString().contains(Dialect.MARKER);
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        for (Map.Entry<String, JsonNode> property : node.properties()) {
            names.add(property.getKey());
        }
        return names;
    }

    private static String abbreviate(JsonNode node) {
        String text = String.valueOf(node);
        return text.length() <= 200 ? text : text.substring(0, 200) + "...";
    }
}
