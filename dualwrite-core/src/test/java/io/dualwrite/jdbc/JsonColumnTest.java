package io.dualwrite.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Connection;
import java.sql.Timestamp;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.json.JsonMapper;

/**
 * JSON documents cross every store as their text: written by the guarded upsert as JSON (not as a
 * JSON string holding the text), updated through the upsert's conflict path, and read back as text.
 */
class JsonColumnTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private TestDatabase db;

    @AfterEach
    void close() {
        if (db != null) {
            db.close();
        }
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void upsertAndRead_jsonText_isStoredAsADocumentAndReadBackAsText(Store store) throws Exception {
        db = TestDatabase.create(store, "json");
        String types = switch (store) {
            case POSTGRESQL -> "doc JSONB, raw JSON";
            case MARIADB, H2 -> "doc JSON, raw JSON";
        };
        db.execute("CREATE TABLE t_doc (id BIGINT NOT NULL PRIMARY KEY, " + types + ", gmt_modified TIMESTAMP(3) NOT NULL)");
        TableOps ops;
        try (Connection connection = db.dataSource().getConnection()) {
            ops = new TableOps(Dialect.of(connection), TableMetadata.read(connection, "t_doc").orElseThrow(),
                    List.of("id", "doc", "raw", "gmt_modified"), List.of("id"), "gmt_modified");
            ops.upsert(connection, List.of(row(1, "{\"color\": \"red\", \"tags\": [1, 2]}", 1000),
                    row(2, null, 1000)));
            ops.upsert(connection, List.of(row(1, "{\"color\": \"blue\", \"note\": \"\\u00e9\\n\"}", 2000)));
        }

        String isObject = switch (store) {
            case POSTGRESQL -> "SELECT jsonb_typeof(doc) = 'object' AND json_typeof(raw) = 'object' FROM t_doc WHERE id = 1";
            case MARIADB -> "SELECT JSON_TYPE(doc) = 'OBJECT' AND JSON_TYPE(raw) = 'OBJECT' FROM t_doc WHERE id = 1";
            case H2 -> "SELECT doc IS JSON OBJECT AND raw IS JSON OBJECT FROM t_doc WHERE id = 1";
        };
        assertThat(db.queryForObject(isObject, Boolean.class)).isTrue();
        try (Connection connection = db.dataSource().getConnection()) {
            Map<RowKey, Row> rows = ops.readByKeys(connection, List.of(RowKey.of(1L), RowKey.of(2L)), false);
            assertThat(rows.get(RowKey.of(1L)).get("doc")).isInstanceOf(String.class);
            assertThat(JSON.readTree((String) rows.get(RowKey.of(1L)).get("doc")))
                    .isEqualTo(JSON.readTree("{\"color\": \"blue\", \"note\": \"\u00e9\\n\"}"));
            assertThat(JSON.readTree((String) rows.get(RowKey.of(1L)).get("raw")))
                    .isEqualTo(JSON.readTree("{\"color\": \"blue\", \"note\": \"\u00e9\\n\"}"));
            assertThat(rows.get(RowKey.of(2L)).get("doc")).isNull();
        }
    }

    private static Row row(long id, String json, long modified) {
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("id", id);
        values.put("doc", json);
        values.put("raw", json);
        values.put("gmt_modified", new Timestamp(modified));
        return Row.of(values);
    }
}
