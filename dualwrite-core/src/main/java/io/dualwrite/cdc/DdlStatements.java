package io.dualwrite.cdc;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Tells whether a statement logged as a query event changes a table's structure (or its rows, as a
 * statement rather than as row images), and which tables it names. It does not parse SQL: it drops comments
 * and string literals, splits identifiers, and takes every name in a DDL statement as touched; naming a
 * table too many only stops a capture that an operator restarts, naming one too few could read keys from the
 * wrong columns. One DDL statement is known to leave the layout alone: moving an {@code AUTO_INCREMENT}
 * counter, which the library itself does at a ramp step.
 */
final class DdlStatements {

    private static final Set<String> DDL_VERBS = Set.of("ALTER", "DROP", "RENAME", "TRUNCATE", "CREATE");

    /** Row changes logged as statements: in ROW format only when binlog_format was changed for a session. */
    private static final Set<String> DML_VERBS = Set.of("INSERT", "UPDATE", "DELETE", "REPLACE", "LOAD");

    /** A table a statement names: its database when qualified, else null, and its name. */
    record Name(String database, String table) {
    }

    private DdlStatements() {
    }

    /**
     * @param sql a logged statement
     * @return the names it touches when it is DDL; empty when it is not
     */
    static List<Name> touched(String sql) {
        List<String> tokens = tokens(sql);
        // The library's own id alignment moves MariaDB's counter at a ramp step: no column moves.
        return movesCounterOnly(tokens) ? List.of() : names(tokens, DDL_VERBS);
    }

    /** {@code ALTER TABLE [db.]t [NOWAIT | WAIT n] AUTO_INCREMENT [=] n}, and nothing else. */
    private static boolean movesCounterOnly(List<String> tokens) {
        if (tokens.size() < 5 || !tokens.get(0).equalsIgnoreCase("ALTER") || !tokens.get(1).equalsIgnoreCase("TABLE")) {
            return false;
        }
        int i = tokens.size() > 4 && tokens.get(3).equals(".") ? 5 : 3;
        if (i < tokens.size() && tokens.get(i).equalsIgnoreCase("NOWAIT")) {
            i++;
        } else if (i < tokens.size() && tokens.get(i).equalsIgnoreCase("WAIT")) {
            i += 2;
        }
        return i + 2 == tokens.size() && tokens.get(i).equalsIgnoreCase("AUTO_INCREMENT")
                && tokens.get(i + 1).chars().allMatch(Character::isDigit);
    }

    /**
     * @param sql a logged statement
     * @return the names it touches when it changes rows as a statement; empty when it does not
     */
    static List<Name> changedAsStatement(String sql) {
        return names(tokens(sql), DML_VERBS);
    }

    private static List<Name> names(List<String> tokens, Set<String> verbs) {
        if (tokens.isEmpty() || !verbs.contains(tokens.get(0).toUpperCase(Locale.ROOT))) {
            return List.of();
        }
        List<Name> names = new ArrayList<>();
        for (int i = 0; i < tokens.size(); i++) {
            String token = tokens.get(i);
            if (token.equals(".")) {
                continue;
            }
            if (i + 2 < tokens.size() && tokens.get(i + 1).equals(".")) {
                names.add(new Name(unquote(token), unquote(tokens.get(i + 2))));
                i += 2;
            } else {
                names.add(new Name(null, unquote(token)));
            }
        }
        return names;
    }

    private static String unquote(String token) {
        return token.startsWith("`") ? token.substring(1, token.length() - 1).replace("``", "`") : token;
    }

    /** Identifiers, back-quoted names and dots, in order; comments, literals and other symbols left out. */
    private static List<String> tokens(String sql) {
        List<String> tokens = new ArrayList<>();
        int i = 0;
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                int end = sql.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
            } else if (c == '#' || (c == '-' && i + 2 < n && sql.charAt(i + 1) == '-'
                    && Character.isWhitespace(sql.charAt(i + 2)))) {
                int end = sql.indexOf('\n', i);
                i = end < 0 ? n : end + 1;
            } else if (c == '\'' || c == '"') {
                int j = i + 1;
                while (j < n && sql.charAt(j) != c) {
                    j += sql.charAt(j) == '\\' ? 2 : 1;
                }
                i = j + 1;
            } else if (c == '`') {
                int j = i + 1;
                while (j < n) {
                    if (sql.charAt(j) == '`') {
                        if (j + 1 < n && sql.charAt(j + 1) == '`') {
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    j++;
                }
                tokens.add(sql.substring(i, Math.min(n, j + 1)));
                i = j + 1;
            } else if (c == '.') {
                tokens.add(".");
                i++;
            } else if (Character.isLetterOrDigit(c) || c == '_' || c == '$') {
                int j = i;
                while (j < n && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '_'
                        || sql.charAt(j) == '$')) {
                    j++;
                }
                tokens.add(sql.substring(i, j));
                i = j;
            } else {
                i++;
            }
        }
        return tokens;
    }
}
