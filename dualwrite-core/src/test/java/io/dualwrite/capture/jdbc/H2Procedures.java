package io.dualwrite.capture.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/** A stored procedure for H2, which runs Java. */
public final class H2Procedures {

    private H2Procedures() {
    }

    /** Writes every order, as a procedure would behind capture's back. */
    public static void touchOrders(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.executeUpdate("UPDATE t_order SET note = 'proc'");
        }
    }
}
