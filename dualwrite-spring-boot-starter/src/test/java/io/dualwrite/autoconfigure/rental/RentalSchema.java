package io.dualwrite.autoconfigure.rental;

import io.dualwrite.testing.TestDatabase;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.springframework.jdbc.core.JdbcTemplate;
import tools.jackson.databind.json.JsonMapper;

/**
 * A small video-rental schema of our own, written the way each store's team would write it: MariaDB types in
 * the source, PostgreSQL's own in the target. Between them it holds every type pair issue 17 names:
 *
 * <table>
 *   <caption>The type pairs</caption>
 *   <tr><th>column</th><th>MariaDB</th><th>PostgreSQL</th></tr>
 *   <tr><td>film.rating</td><td>{@code ENUM}</td><td>an enum type</td></tr>
 *   <tr><td>film.special_features</td><td>{@code SET}</td><td>{@code text[]}</td></tr>
 *   <tr><td>film.release_year</td><td>{@code YEAR}</td><td>{@code integer}</td></tr>
 *   <tr><td>film.fulltext</td><td></td><td>{@code tsvector NOT NULL}, filled by a trigger</td></tr>
 *   <tr><td>customer.active</td><td>{@code TINYINT(1)}</td><td>{@code boolean}</td></tr>
 *   <tr><td>customer.created</td><td>{@code DATETIME(6)}, Paris wall-clock time</td><td>{@code timestamptz}</td></tr>
 *   <tr><td>customer.birthday</td><td>{@code DATETIME}</td><td>{@code date}</td></tr>
 *   <tr><td>customer.loyalty_points</td><td>{@code BIGINT UNSIGNED}</td><td>{@code numeric(20)}</td></tr>
 *   <tr><td>customer.flags</td><td>{@code BIT(5)}</td><td>{@code bit(5)}</td></tr>
 *   <tr><td>customer.prefs</td><td>{@code JSON}</td><td>{@code jsonb}</td></tr>
 *   <tr><td>customer.avatar</td><td>{@code BLOB}</td><td>{@code bytea}</td></tr>
 * </table>
 *
 * Foreign keys tie inventory to film, rental to inventory and customer, payment to rental and customer, on
 * both sides. Every row belongs to one store ({@code store_id}, the routing column), and a store's rows only
 * refer to rows of the same store.
 */
final class RentalSchema {

    /** Parents before children: the order a copy must follow. */
    static final List<String> TABLES = List.of("customer", "film", "inventory", "rental", "payment");
    static final String[] FEATURES = {"Trailers", "Commentaries", "Deleted Scenes", "Behind the Scenes"};
    static final String[] RATINGS = {"G", "PG", "PG-13", "R", "NC-17"};
    static final int STORES = 40;
    static final int CUSTOMERS_PER_STORE = 3;
    static final int FILMS_PER_STORE = 3;
    /** Inventory ids are film ids; rental and payment ids match. */
    static final int RENTALS_PER_CUSTOMER = 2;

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private RentalSchema() {
    }

    static void createSource(TestDatabase db) {
        db.execute("CREATE TABLE customer (customer_id BIGINT NOT NULL PRIMARY KEY, store_id INT NOT NULL,"
                        + " name VARCHAR(100) NOT NULL, active TINYINT(1) NOT NULL, created DATETIME(6) NOT NULL,"
                        + " birthday DATETIME NULL, loyalty_points BIGINT UNSIGNED NULL, flags BIT(5) NULL,"
                        + " prefs JSON NULL, avatar BLOB NULL, gmt_modified DATETIME(6) NOT NULL)",
                "CREATE TABLE film (film_id BIGINT NOT NULL PRIMARY KEY, store_id INT NOT NULL,"
                        + " title VARCHAR(200) NOT NULL, rating ENUM('G','PG','PG-13','R','NC-17') NULL,"
                        + " special_features SET('Trailers','Commentaries','Deleted Scenes','Behind the Scenes') NULL,"
                        + " release_year YEAR NULL, gmt_modified DATETIME(6) NOT NULL)",
                "CREATE TABLE inventory (inventory_id BIGINT NOT NULL PRIMARY KEY, store_id INT NOT NULL,"
                        + " film_id BIGINT NOT NULL, gmt_modified DATETIME(6) NOT NULL,"
                        + " CONSTRAINT fk_inventory_film FOREIGN KEY (film_id) REFERENCES film (film_id))",
                "CREATE TABLE rental (rental_id BIGINT NOT NULL PRIMARY KEY, store_id INT NOT NULL,"
                        + " inventory_id BIGINT NOT NULL, customer_id BIGINT NOT NULL, rental_date DATETIME(6) NOT NULL,"
                        + " return_date DATETIME(6) NULL, gmt_modified DATETIME(6) NOT NULL,"
                        + " CONSTRAINT fk_rental_inventory FOREIGN KEY (inventory_id) REFERENCES inventory (inventory_id),"
                        + " CONSTRAINT fk_rental_customer FOREIGN KEY (customer_id) REFERENCES customer (customer_id))",
                "CREATE TABLE payment (payment_id BIGINT NOT NULL PRIMARY KEY, store_id INT NOT NULL,"
                        + " rental_id BIGINT NOT NULL, customer_id BIGINT NOT NULL, amount DECIMAL(5,2) NOT NULL,"
                        + " gmt_modified DATETIME(6) NOT NULL,"
                        + " CONSTRAINT fk_payment_rental FOREIGN KEY (rental_id) REFERENCES rental (rental_id),"
                        + " CONSTRAINT fk_payment_customer FOREIGN KEY (customer_id) REFERENCES customer (customer_id))");
    }

    static void createTarget(TestDatabase db) {
        db.execute("CREATE TYPE mpaa_rating AS ENUM ('G', 'PG', 'PG-13', 'R', 'NC-17')",
                "CREATE TABLE customer (customer_id bigint PRIMARY KEY, store_id integer NOT NULL,"
                        + " name varchar(100) NOT NULL, active boolean NOT NULL, created timestamptz NOT NULL,"
                        + " birthday date, loyalty_points numeric(20), flags bit(5), prefs jsonb, avatar bytea,"
                        + " gmt_modified timestamp(6) NOT NULL)",
                "CREATE TABLE film (film_id bigint PRIMARY KEY, store_id integer NOT NULL, title varchar(200) NOT NULL,"
                        + " rating mpaa_rating, special_features text[], release_year integer,"
                        + " fulltext tsvector NOT NULL, gmt_modified timestamp(6) NOT NULL)",
                "CREATE FUNCTION film_fulltext() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                        + " NEW.fulltext := to_tsvector('simple', NEW.title); RETURN NEW; END $$",
                "CREATE TRIGGER film_fulltext BEFORE INSERT OR UPDATE ON film FOR EACH ROW"
                        + " EXECUTE FUNCTION film_fulltext()",
                "CREATE TABLE inventory (inventory_id bigint PRIMARY KEY, store_id integer NOT NULL,"
                        + " film_id bigint NOT NULL CONSTRAINT fk_inventory_film REFERENCES film (film_id),"
                        + " gmt_modified timestamp(6) NOT NULL)",
                "CREATE TABLE rental (rental_id bigint PRIMARY KEY, store_id integer NOT NULL,"
                        + " inventory_id bigint NOT NULL CONSTRAINT fk_rental_inventory REFERENCES inventory (inventory_id),"
                        + " customer_id bigint NOT NULL CONSTRAINT fk_rental_customer REFERENCES customer (customer_id),"
                        + " rental_date timestamp(6) NOT NULL, return_date timestamp(6),"
                        + " gmt_modified timestamp(6) NOT NULL)",
                "CREATE TABLE payment (payment_id bigint PRIMARY KEY, store_id integer NOT NULL,"
                        + " rental_id bigint NOT NULL CONSTRAINT fk_payment_rental REFERENCES rental (rental_id),"
                        + " customer_id bigint NOT NULL CONSTRAINT fk_payment_customer REFERENCES customer (customer_id),"
                        + " amount numeric(5,2) NOT NULL, gmt_modified timestamp(6) NOT NULL)");
    }

    static long customerId(int store, int n) {
        return store * 100L + n;
    }

    static long filmId(int store, int n) {
        return store * 100L + n;
    }

    static long rentalId(long customerId, int n) {
        return customerId * 10 + n;
    }

    /** History in the source: every type's edge values, among them the largest unsigned bigint and an empty SET. */
    static void history(TestDatabase db) {
        JdbcTemplate jdbc = new JdbcTemplate(db.dataSource());
        LocalDateTime now = LocalDateTime.now().withNano(123_456_000);
        List<Object[]> customers = new ArrayList<>();
        List<Object[]> films = new ArrayList<>();
        List<Object[]> inventory = new ArrayList<>();
        List<Object[]> rentals = new ArrayList<>();
        List<Object[]> payments = new ArrayList<>();
        for (int store = 0; store < STORES; store++) {
            for (int n = 1; n <= FILMS_PER_STORE; n++) {
                long film = filmId(store, n);
                int i = (int) film;
                films.add(new Object[] {film, store, "Film " + film + " of store " + store,
                    i % 6 == 0 ? null : RATINGS[i % RATINGS.length], features(i), i % 7 == 0 ? null : 1901 + i % 254,
                    now});
                inventory.add(new Object[] {film, store, film, now});
            }
            for (int n = 1; n <= CUSTOMERS_PER_STORE; n++) {
                long customer = customerId(store, n);
                int i = (int) customer;
                // 2026-10-25 02:30 happens twice in Paris; a stated zone still reads it one way, both ways.
                LocalDateTime created = i % 5 == 0 ? LocalDateTime.of(2026, 10, 25, 2, 30)
                        : LocalDateTime.of(2020, 1 + i % 12, 1 + i % 28, i % 24, i % 60, 7, 250_000_000);
                Object loyalty = i % 4 == 0 ? new BigDecimal("18446744073709551615") : i % 4 == 1 ? null
                        : BigDecimal.valueOf(i * 1_000L);
                customers.add(new Object[] {customer, store, "Customer " + customer, i % 3 != 0, created,
                    i % 2 == 0 ? LocalDate.of(1970 + i % 40, 1 + i % 12, 1 + i % 28).atStartOfDay() : null, loyalty,
                    new byte[] {(byte) (i % 32)}, i % 3 == 0 ? null : "{\"lang\": \"fr\", \"n\": " + i + "}",
                    i % 2 == 0 ? new byte[] {0, (byte) 0xff, (byte) i, 0x7f} : null, now});
                for (int r = 1; r <= RENTALS_PER_CUSTOMER; r++) {
                    long rental = rentalId(customer, r);
                    rentals.add(new Object[] {rental, store, filmId(store, 1 + (n + r) % FILMS_PER_STORE), customer,
                        now.minusDays(r), r == 1 ? null : now.minusHours(r), now});
                    payments.add(new Object[] {rental, store, rental, customer, new BigDecimal("3.99"), now});
                }
            }
        }
        jdbc.batchUpdate("INSERT INTO film (film_id, store_id, title, rating, special_features, release_year,"
                + " gmt_modified) VALUES (?, ?, ?, ?, ?, ?, ?)", films);
        jdbc.batchUpdate("INSERT INTO inventory (inventory_id, store_id, film_id, gmt_modified) VALUES (?, ?, ?, ?)",
                inventory);
        jdbc.batchUpdate("INSERT INTO customer (customer_id, store_id, name, active, created, birthday, loyalty_points,"
                + " flags, prefs, avatar, gmt_modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", customers);
        jdbc.batchUpdate("INSERT INTO rental (rental_id, store_id, inventory_id, customer_id, rental_date, return_date,"
                + " gmt_modified) VALUES (?, ?, ?, ?, ?, ?, ?)", rentals);
        jdbc.batchUpdate("INSERT INTO payment (payment_id, store_id, rental_id, customer_id, amount, gmt_modified)"
                + " VALUES (?, ?, ?, ?, ?, ?)", payments);
    }

    /** A SET value: some members, written in an order of its own; sometimes empty, sometimes NULL. */
    static String features(int i) {
        if (i % 9 == 0) {
            return null;
        }
        List<String> members = new ArrayList<>();
        for (int f = FEATURES.length - 1; f >= 0; f--) {
            if ((i >> f & 1) == 1) {
                members.add(FEATURES[f]);
            }
        }
        return String.join(",", members);
    }

    /**
     * Every row of every table, as each store spells it in SQL of its own and brought to one text per row:
     * an independent check of what the library's reconciler says.
     */
    static Map<String, Map<Long, String>> sourceRows(TestDatabase db) {
        Map<String, Map<Long, String>> tables = new TreeMap<>();
        tables.put("customer", rows(db, "SELECT customer_id, CONCAT_WS('|', store_id, name, active,"
                + " DATE_FORMAT(created, '%Y-%m-%d %H:%i:%s.%f'), IFNULL(DATE_FORMAT(birthday, '%Y-%m-%d'), '-'),"
                + " IFNULL(loyalty_points, '-'), IFNULL(LPAD(BIN(flags), 5, '0'), '-'), IFNULL(HEX(avatar), '-'),"
                + " DATE_FORMAT(gmt_modified, '%Y-%m-%d %H:%i:%s.%f')), prefs FROM customer"));
        tables.put("film", rows(db, "SELECT film_id, CONCAT_WS('|', store_id, title, IFNULL(rating, '-'),"
                + " IFNULL(special_features, '-'), IFNULL(release_year, '-'),"
                + " DATE_FORMAT(gmt_modified, '%Y-%m-%d %H:%i:%s.%f')), NULL FROM film"));
        tables.put("inventory", rows(db, "SELECT inventory_id, CONCAT_WS('|', store_id, film_id,"
                + " DATE_FORMAT(gmt_modified, '%Y-%m-%d %H:%i:%s.%f')), NULL FROM inventory"));
        tables.put("rental", rows(db, "SELECT rental_id, CONCAT_WS('|', store_id, inventory_id, customer_id,"
                + " DATE_FORMAT(rental_date, '%Y-%m-%d %H:%i:%s.%f'),"
                + " IFNULL(DATE_FORMAT(return_date, '%Y-%m-%d %H:%i:%s.%f'), '-'),"
                + " DATE_FORMAT(gmt_modified, '%Y-%m-%d %H:%i:%s.%f')), NULL FROM rental"));
        tables.put("payment", rows(db, "SELECT payment_id, CONCAT_WS('|', store_id, rental_id, customer_id, amount,"
                + " DATE_FORMAT(gmt_modified, '%Y-%m-%d %H:%i:%s.%f')), NULL FROM payment"));
        return tables;
    }

    /** {@link #sourceRows} of the target: Paris wall-clock times, SET members in the order the SET defines. */
    static Map<String, Map<Long, String>> targetRows(TestDatabase db) {
        String stamp = "'YYYY-MM-DD HH24:MI:SS.US'";
        Map<String, Map<Long, String>> tables = new TreeMap<>();
        tables.put("customer", rows(db, "SELECT customer_id, concat_ws('|', store_id, name,"
                + " CASE WHEN active THEN 1 ELSE 0 END, to_char(created AT TIME ZONE 'Europe/Paris', " + stamp + "),"
                + " coalesce(to_char(birthday, 'YYYY-MM-DD'), '-'), coalesce(loyalty_points::text, '-'),"
                + " coalesce(flags::text, '-'), coalesce(upper(encode(avatar, 'hex')), '-'),"
                + " to_char(gmt_modified, " + stamp + ")), prefs::text FROM customer"));
        tables.put("film", rows(db, "SELECT film_id, concat_ws('|', store_id, title, coalesce(rating::text, '-'),"
                + " CASE WHEN special_features IS NULL THEN '-' ELSE array_to_string(ARRAY(SELECT f FROM"
                + " unnest(special_features) f ORDER BY array_position(ARRAY['Trailers', 'Commentaries',"
                + " 'Deleted Scenes', 'Behind the Scenes'], f)), ',') END,"
                + " coalesce(release_year::text, '-'), to_char(gmt_modified, " + stamp + ")), NULL FROM film"));
        tables.put("inventory", rows(db, "SELECT inventory_id, concat_ws('|', store_id, film_id,"
                + " to_char(gmt_modified, " + stamp + ")), NULL FROM inventory"));
        tables.put("rental", rows(db, "SELECT rental_id, concat_ws('|', store_id, inventory_id, customer_id,"
                + " to_char(rental_date, " + stamp + "), coalesce(to_char(return_date, " + stamp + "), '-'),"
                + " to_char(gmt_modified, " + stamp + ")), NULL FROM rental"));
        tables.put("payment", rows(db, "SELECT payment_id, concat_ws('|', store_id, rental_id, customer_id, amount,"
                + " to_char(gmt_modified, " + stamp + ")), NULL FROM payment"));
        return tables;
    }

    /** Rows by key: the row's text, and its JSON column (if any) parsed, so that spacing and key order do not count. */
    private static Map<Long, String> rows(TestDatabase db, String sql) {
        Map<Long, String> rows = new TreeMap<>();
        for (Map<String, Object> row : db.queryForList(sql)) {
            Object[] values = row.values().toArray();
            Object json = values[2];
            rows.put(((Number) values[0]).longValue(),
                    values[1] + (json == null ? "" : "|" + new TreeMap<>(JSON.readValue(json.toString(), Map.class))));
        }
        return rows;
    }

    /** The rows that differ between two {@link #sourceRows} results, each table's key by key. */
    static List<String> differences(Map<String, Map<Long, String>> source, Map<String, Map<Long, String>> target) {
        List<String> differences = new ArrayList<>();
        for (String table : TABLES) {
            Map<Long, String> left = source.get(table);
            Map<Long, String> right = target.get(table);
            java.util.Set<Long> keys = new java.util.TreeSet<>(left.keySet());
            keys.addAll(right.keySet());
            for (Long key : keys) {
                if (!java.util.Objects.equals(left.get(key), right.get(key))) {
                    differences.add(table + " " + key + ": source " + left.get(key) + ", target " + right.get(key));
                }
            }
        }
        return differences;
    }
}
