package io.dualwrite.cdc;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether a MariaDB/MySQL server's binary log can feed the change-data capture: it is on, in ROW format
 * with the key columns in every row image, and the user may read it. Each problem becomes one sentence
 * naming the setting or grant to change; a setting the capture can live without (the statement
 * annotations that filter the library's own writes) becomes a warning.
 */
final class BinlogReadiness {

    /** On-the-wire grant lines: {@code GRANT <privileges> ON *.* TO ...}. */
    private static final Pattern GLOBAL_GRANT = Pattern.compile("^GRANT (.+?) ON \\*\\.\\* TO ", Pattern.CASE_INSENSITIVE);

    /**
     * What the server says about its log and the user's grants.
     *
     * @param logBin {@code @@log_bin}
     * @param binlogFormat {@code @@GLOBAL.binlog_format}
     * @param rowImage {@code @@GLOBAL.binlog_row_image}
     * @param annotateRows {@code @@GLOBAL.binlog_annotate_row_events}; null on MySQL
     * @param user {@code CURRENT_USER()}
     * @param globalPrivileges the privileges granted on {@code *.*}, upper case
     */
    record ServerSettings(boolean logBin, String binlogFormat, String rowImage, Boolean annotateRows, String user,
            List<String> globalPrivileges) {
    }

    /**
     * What stands in the way, and what only weakens the capture.
     *
     * @param problems each a reason the log cannot be read, naming its fix
     * @param warnings each a reason the capture works less well, naming its fix
     */
    record Verdict(List<String> problems, List<String> warnings) {
    }

    private BinlogReadiness() {
    }

    static ServerSettings read(Connection connection) throws SQLException {
        boolean logBin;
        String format;
        String image;
        Boolean annotate = null;
        String user;
        try (Statement statement = connection.createStatement()) {
            try (ResultSet rs = statement.executeQuery("/* dualwrite */ SELECT @@log_bin, @@GLOBAL.binlog_format,"
                    + " @@GLOBAL.binlog_row_image, CURRENT_USER()")) {
                rs.next();
                logBin = rs.getInt(1) == 1;
                format = rs.getString(2);
                image = rs.getString(3);
                user = rs.getString(4);
            }
            try (ResultSet rs = statement.executeQuery("/* dualwrite */ SELECT @@GLOBAL.binlog_annotate_row_events")) {
                rs.next();
                annotate = rs.getInt(1) == 1;
            } catch (SQLException mysql) {
                // MySQL has no such variable (it logs rows queries with binlog_rows_query_log_events instead).
            }
        }
        List<String> privileges = new ArrayList<>();
        try (Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("SHOW GRANTS FOR CURRENT_USER()")) {
            while (rs.next()) {
                Matcher grant = GLOBAL_GRANT.matcher(rs.getString(1));
                if (grant.find()) {
                    for (String privilege : grant.group(1).split(",")) {
                        privileges.add(privilege.trim().toUpperCase(Locale.ROOT));
                    }
                }
            }
        }
        return new ServerSettings(logBin, format, image, annotate, user, privileges);
    }

    static Verdict judge(ServerSettings server) {
        List<String> problems = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        if (!server.logBin()) {
            problems.add("the binary log is off (log_bin=OFF): start the server with log_bin (log-bin in the [mariadbd]"
                    + " or [mysqld] section of its configuration, which needs a restart), binlog_format=ROW and a"
                    + " server_id");
        } else {
            if (!"ROW".equalsIgnoreCase(server.binlogFormat())) {
                problems.add("binlog_format is " + server.binlogFormat() + ", change-data capture needs ROW: run SET"
                        + " GLOBAL binlog_format=ROW and put binlog_format=ROW in the server's configuration");
            }
            if ("MINIMAL".equalsIgnoreCase(server.rowImage())) {
                problems.add("binlog_row_image is MINIMAL, which may leave key columns out of a row's image: run SET"
                        + " GLOBAL binlog_row_image=FULL and put binlog_row_image=FULL in the server's configuration");
            }
            if (Boolean.FALSE.equals(server.annotateRows())) {
                warnings.add("binlog_annotate_row_events is OFF, so the library's own writes cannot be told apart in"
                        + " the log and come back as harmless extra applies: SET GLOBAL binlog_annotate_row_events=ON"
                        + " and put it in the server's configuration");
            }
        }
        List<String> granted = server.globalPrivileges();
        boolean all = granted.contains("ALL PRIVILEGES") || granted.contains("ALL");
        if (!all && !granted.contains("REPLICATION SLAVE") && !granted.contains("REPLICATION REPLICA")) {
            problems.add("user " + server.user() + " lacks the REPLICATION SLAVE grant needed to read the binary log:"
                    + " GRANT REPLICATION SLAVE ON *.* TO " + quoted(server.user()));
        }
        if (!all && !granted.contains("REPLICATION CLIENT") && !granted.contains("BINLOG MONITOR")
                && !granted.contains("SUPER")) {
            problems.add("user " + server.user() + " lacks the REPLICATION CLIENT grant (BINLOG MONITOR on MariaDB"
                    + " 10.5 and later) needed to read the log's position: GRANT REPLICATION CLIENT ON *.* TO "
                    + quoted(server.user()));
        }
        return new Verdict(problems, warnings);
    }

    private static String quoted(String user) {
        int at = user == null ? -1 : user.lastIndexOf('@');
        return at < 0 ? String.valueOf(user) : "'" + user.substring(0, at) + "'@'" + user.substring(at + 1) + "'";
    }
}
