package io.dualwrite.verify;

import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.TableMetadata;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/** A table the verifier keeps in the target: its name, its DDL, and whether it is there yet. */
abstract class LibraryTable {

    /** The name, left unquoted so that it folds to the store's own case, like tables made by hand. */
    final String table;

    LibraryTable(Dialect dialect, String table) {
        dialect.quote(table);
        this.table = table;
    }

    abstract String ddl();

    boolean exists(Connection connection) throws SQLException {
        return TableMetadata.read(connection, table).isPresent();
    }

    void create(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute(ddl());
        }
    }
}
