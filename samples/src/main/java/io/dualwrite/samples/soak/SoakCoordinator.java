package io.dualwrite.samples.soak;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The fault-injection soak of issue 16: three instances of {@link SoakInstance} as separate JVMs, eight
 * writers, the whole migration under faults, and a verdict from the stores' own SQL (see {@link SoakRun}).
 *
 * <p>System properties:
 * <ul>
 * <li>{@code soak.seeds} a comma-separated list of seeds, or {@code soak.seed} one (default: one seed from
 *     the clock, printed). A failing seed is printed with the command that replays it.</li>
 * <li>{@code soak.dwell.ms} how long the writers run between steps (default 3000).</li>
 * <li>{@code soak.expect=fail} the negative control: the run passes only if the verdict finds a violation.
 *     With {@code dualwrite.soak.fence=off} (passed on to the instances) it must.</li>
 * <li>{@code soak.pg.bin} PostgreSQL's binaries (default {@code /usr/lib/postgresql/15/bin}); the MariaDB
 *     server comes from {@code DUALWRITE_IT_MARIADB_URL} (default {@code jdbc:mariadb://127.0.0.1:3306/}).</li>
 * <li>{@code soak.work} where the instances' logs go (default {@code target/soak}).</li>
 * </ul>
 * Exits 0 when every seed passed (or, with {@code soak.expect=fail}, when every seed failed), 1 otherwise.
 */
public final class SoakCoordinator {

    private SoakCoordinator() {
    }

    /**
     * Runs the soak for every seed asked.
     *
     * @param args none; see the class comment
     * @throws Exception if the soak cannot be set up (a store missing, a command failing)
     */
    public static void main(String[] args) throws Exception {
        List<Long> seeds = new ArrayList<>();
        String many = System.getProperty("soak.seeds");
        if (many != null && !many.isBlank()) {
            Arrays.stream(many.split(",")).map(String::trim).map(Long::parseLong).forEach(seeds::add);
        } else {
            seeds.add(Long.getLong("soak.seed", System.currentTimeMillis() % 1_000_000));
        }
        boolean expectFail = "fail".equals(System.getProperty("soak.expect", "pass"));
        boolean fenceOff = "off".equals(System.getProperty("dualwrite.soak.fence"));
        Path work = Path.of(System.getProperty("soak.work", "target/soak")).toAbsolutePath();
        List<String> failed = new ArrayList<>();
        List<String> passed = new ArrayList<>();
        for (long seed : seeds) {
            SoakRun.Verdict verdict = new SoakRun(seed, fenceOff, work).run();
            (verdict.passed() ? passed : failed).add(String.valueOf(seed));
        }
        System.out.printf(Locale.ROOT, "soak: %d seeds, passed %s, failed %s%s%n", seeds.size(), passed, failed,
                fenceOff ? " (fence OFF: the negative control)" : "");
        boolean ok = expectFail ? passed.isEmpty() : failed.isEmpty();
        if (!failed.isEmpty() && !expectFail) {
            System.out.println("soak: replay a failing seed with .ci/soak --seed " + failed.get(0)
                    + " (or -Dsoak.seeds=" + failed.get(0) + ")");
        }
        if (expectFail) {
            System.out.println(ok ? "soak: the negative control FAILED every seed, as it must: the soak catches the loss"
                    : "soak: the negative control PASSED seeds " + passed + ": the soak did not catch the loss there");
        }
        System.exit(ok ? 0 : 1);
    }
}
