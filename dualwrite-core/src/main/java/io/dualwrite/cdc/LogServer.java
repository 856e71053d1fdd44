package io.dualwrite.cdc;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server a JDBC URL names, as a change log reader needs it: host, port (the product's default when the
 * URL has none) and database. Read from MariaDB, MySQL and PostgreSQL URLs with one host only: a URL naming
 * several hosts names no single log.
 *
 * @param host the host as the URL spells it (an IPv6 address keeps its brackets)
 * @param port the port
 * @param database the database in the URL's path, or null when there is none
 */
public record LogServer(String host, int port, String database) {

    /** {@code jdbc:<product>[:<sub>]://[user[:password]@]host[:port][/database][?...]}. */
    private static final Pattern URL = Pattern.compile("jdbc:(mariadb|mysql|postgresql)(?::[a-z]+)?://"
            + "(?:[^@/?]*@)?(\\[[^\\]]+\\]|[^:/?,\\[]+)(?::(\\d+))?(?:/([^?;]*))?(?:[?;].*)?",
            Pattern.CASE_INSENSITIVE);

    /**
     * @param jdbcUrl a JDBC URL, or null
     * @return the server it names, or empty when it is not a one-host MariaDB, MySQL or PostgreSQL URL
     */
    public static Optional<LogServer> of(String jdbcUrl) {
        Matcher matcher = URL.matcher(jdbcUrl == null ? "" : jdbcUrl);
        if (!matcher.matches()) {
            return Optional.empty();
        }
        boolean postgres = matcher.group(1).toLowerCase(Locale.ROOT).equals("postgresql");
        int port = matcher.group(3) != null ? Integer.parseInt(matcher.group(3)) : postgres ? 5432 : 3306;
        String database = matcher.group(4) == null || matcher.group(4).isEmpty() ? null : matcher.group(4);
        return Optional.of(new LogServer(matcher.group(2), port, database));
    }
}
