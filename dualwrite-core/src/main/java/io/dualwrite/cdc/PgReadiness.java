package io.dualwrite.cdc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Whether a PostgreSQL server can feed the logical-decoding capture: {@code wal_level} is logical, the
 * user may open a replication connection, and a replication slot (and a WAL sender) is free for this reader.
 * Each problem becomes one sentence naming the setting or grant to change.
 */
final class PgReadiness {

    /**
     * What the server says.
     *
     * @param walLevel {@code wal_level}
     * @param user {@code current_user}
     * @param replication whether the user has the REPLICATION attribute (or is a superuser)
     * @param maxSlots {@code max_replication_slots}
     * @param usedSlots the slots that exist
     * @param slotExists whether this reader's slot is among them
     * @param maxWalSenders {@code max_wal_senders}
     */
    record ServerSettings(String walLevel, String user, boolean replication, int maxSlots, int usedSlots,
            boolean slotExists, int maxWalSenders) {
    }

    private PgReadiness() {
    }

    static ServerSettings read(Connection connection, String slot) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement("/* dualwrite */ SELECT"
                + " current_setting('wal_level'), current_user, (SELECT rolreplication OR rolsuper FROM pg_roles WHERE"
                + " rolname = current_user), current_setting('max_replication_slots')::int, (SELECT count(*) FROM"
                + " pg_replication_slots)::int, EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = ?),"
                + " current_setting('max_wal_senders')::int")) {
            select.setString(1, slot);
            try (ResultSet rs = select.executeQuery()) {
                rs.next();
                return new ServerSettings(rs.getString(1), rs.getString(2), rs.getBoolean(3), rs.getInt(4),
                        rs.getInt(5), rs.getBoolean(6), rs.getInt(7));
            }
        }
    }

    static List<String> judge(ServerSettings server, String slot, String database) {
        List<String> problems = new ArrayList<>();
        if (!"logical".equalsIgnoreCase(server.walLevel())) {
            problems.add("wal_level is " + server.walLevel() + ", logical decoding needs logical: run ALTER SYSTEM SET"
                    + " wal_level = logical and restart the server");
        }
        if (!server.replication()) {
            problems.add("user " + server.user() + " lacks the REPLICATION attribute needed to read a replication"
                    + " slot: ALTER ROLE " + server.user() + " WITH REPLICATION (and let it open a replication"
                    + " connection to database " + database + " in pg_hba.conf)");
        }
        if (!server.slotExists() && server.usedSlots() >= server.maxSlots()) {
            problems.add("max_replication_slots is " + server.maxSlots() + " and all are in use, so slot '" + slot
                    + "' (dualwrite.capture.cdc.slot-name) cannot be created: drop an unused slot with SELECT"
                    + " pg_drop_replication_slot('name') (see pg_replication_slots), or raise max_replication_slots"
                    + " (ALTER SYSTEM SET max_replication_slots = " + (server.maxSlots() + 1) + " and restart)");
        }
        if (server.maxWalSenders() < 1) {
            problems.add("max_wal_senders is 0, so no replication connection is accepted: ALTER SYSTEM SET"
                    + " max_wal_senders = 10 and restart the server");
        }
        return problems;
    }
}
