package io.dualwrite.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TrafficRouterTest {

    private static final RoutingRules RAMP = RoutingRules.initial().withPhase(Phase.RAMP);

    @ParameterizedTest
    @EnumSource(RoutingStrategy.class)
    void route_isStableAndMonotoneInPercent_forRandomKeys(RoutingStrategy strategy) {
        Random random = new Random(20261122);
        for (int i = 0; i < 20_000; i++) {
            Object key = randomKey(random, strategy);
            int percent = random.nextInt(101);
            RoutingRules rules = RAMP.withStrategy(strategy).withPercent(percent);
            Route route = TrafficRouter.route(rules, key);
            assertThat(TrafficRouter.route(rules, key)).as("same key, same rules").isEqualTo(route);
            assertThat(TrafficRouter.route(rules, TrafficRouter.text(key))).as("key and its text").isEqualTo(route);
            if (route == Route.TARGET) {
                for (int higher = percent; higher <= 100; higher++) {
                    assertThat(TrafficRouter.route(rules.withPercent(higher), key))
                            .as("key %s at %d%% then %d%%", key, percent, higher).isEqualTo(Route.TARGET);
                }
            }
        }
    }

    @Test
    void hash_sendsAboutThePercentToTheTarget() {
        Random random = new Random(7);
        for (int percent : List.of(1, 10, 50, 90)) {
            RoutingRules rules = RAMP.withPercent(percent);
            int toTarget = 0;
            int keys = 50_000;
            for (int i = 0; i < keys; i++) {
                Object key = i % 2 == 0 ? (Object) random.nextLong(1, Long.MAX_VALUE) : UUID.randomUUID().toString();
                if (TrafficRouter.route(rules, key) == Route.TARGET) {
                    toTarget++;
                }
            }
            assertThat(100.0 * toTarget / keys).as("share at %d%%", percent).isCloseTo(percent,
                    org.assertj.core.data.Offset.offset(2.0));
        }
    }

    @Test
    void modulo_isKeyModHundred_forEveryIntegralType() {
        assertThat(TrafficRouter.bucket(1234L, RoutingStrategy.MODULO)).isEqualTo(34);
        assertThat(TrafficRouter.bucket(1234, RoutingStrategy.MODULO)).isEqualTo(34);
        assertThat(TrafficRouter.bucket("1234", RoutingStrategy.MODULO)).isEqualTo(34);
        assertThat(TrafficRouter.bucket(new BigInteger("100000000000000000000007"), RoutingStrategy.MODULO)).isEqualTo(7);
        assertThat(TrafficRouter.bucket(-1L, RoutingStrategy.MODULO)).isEqualTo(99);
        RoutingRules at35 = RAMP.withStrategy(RoutingStrategy.MODULO).withPercent(35);
        assertThat(TrafficRouter.route(at35, 1234L)).isEqualTo(Route.TARGET);
        assertThat(TrafficRouter.route(at35, 1235L)).isEqualTo(Route.SOURCE);
    }

    @Test
    void modulo_refusesKeysThatAreNotWholeNumbers() {
        RoutingRules rules = RAMP.withStrategy(RoutingStrategy.MODULO).withPercent(50);
        assertThatThrownBy(() -> TrafficRouter.route(rules, "alice"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dualwrite.routing.strategy=MODULO needs whole-number routing keys")
                .hasMessageContaining("'alice'")
                .hasMessageContaining("HASH");
    }

    @Test
    void movedUser_winsOverTheListsAndThePercent_onlyInRamp() {
        RoutingRules rules = RAMP.withStrategy(RoutingStrategy.MODULO).withPercent(100)
                .withLists(List.of("8"), List.of("7"));
        java.util.function.Function<String, Route> moved = key -> switch (key) {
            case "7" -> Route.TARGET;
            case "8", "9" -> Route.SOURCE;
            default -> null;
        };
        assertThat(TrafficRouter.route(rules, moved, 7L)).as("moved beats deny").isEqualTo(Route.TARGET);
        assertThat(TrafficRouter.route(rules, moved, 8L)).as("moved beats allow").isEqualTo(Route.SOURCE);
        assertThat(TrafficRouter.route(rules, moved, 9L)).as("moved beats the percent").isEqualTo(Route.SOURCE);
        assertThat(TrafficRouter.route(rules, moved, 10L)).as("never moved: the percent").isEqualTo(Route.TARGET);
        assertThat(TrafficRouter.route(rules.withMove(new RoutingRules.UserMove("9", Route.TARGET)), moved, 9L))
                .as("the move a step carries beats the table").isEqualTo(Route.TARGET);
        assertThat(TrafficRouter.route(rules.withPhase(Phase.DUAL_WRITE), moved, 7L)).isEqualTo(Route.SOURCE);
        assertThat(TrafficRouter.route(rules.withPhase(Phase.TARGET_ONLY), moved, 8L)).isEqualTo(Route.TARGET);
    }

    @Test
    void lists_andDefaultRoute_winOverBuckets() {
        RoutingRules rules = RAMP.withPercent(0).withLists(List.of("42", "7"), List.of("7"))
                .withDefaultRoute(Route.TARGET);
        assertThat(TrafficRouter.route(rules, 42L)).isEqualTo(Route.TARGET);
        assertThat(TrafficRouter.route(rules, 7)).as("deny wins over allow").isEqualTo(Route.SOURCE);
        assertThat(TrafficRouter.route(rules, 8L)).isEqualTo(Route.SOURCE);
        assertThat(TrafficRouter.route(rules, null)).isEqualTo(Route.TARGET);
        assertThat(TrafficRouter.route(rules.withPercent(100).withLists(Set.of(), Set.of("9")), 9L)).isEqualTo(Route.SOURCE);
    }

    @Test
    void phasesOutsideRamp_routeEveryKeyTheSameWay() {
        for (Object key : new Object[] {1L, "x", null}) {
            assertThat(TrafficRouter.route(RAMP.withPhase(Phase.SOURCE_ONLY).withPercent(100), key)).isEqualTo(Route.SOURCE);
            assertThat(TrafficRouter.route(RAMP.withPhase(Phase.DUAL_WRITE).withPercent(100), key)).isEqualTo(Route.SOURCE);
            assertThat(TrafficRouter.route(RAMP.withPhase(Phase.TARGET_ONLY), key)).isEqualTo(Route.TARGET);
        }
    }

    @Test
    void rules_refuseBadInput_withTheProperty() {
        assertThatThrownBy(() -> RAMP.withPercent(101)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("dualwrite.routing.percent: 101 is outside 0..100");
        assertThatThrownBy(() -> Phase.parse("HALF")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("dualwrite.phase: unknown phase 'HALF'; expected one of SOURCE_ONLY, DUAL_WRITE, RAMP,"
                        + " TARGET_ONLY");
        assertThat(Phase.parse("dual-write")).isEqualTo(Phase.DUAL_WRITE);
        assertThatThrownBy(() -> PropertiesControlStore.rules(Map.of("dualwrite.routing.percent", "ten")))
                .hasMessage("dualwrite.routing.percent: 'ten' is not a whole number in 0..100");
        assertThatThrownBy(() -> PropertiesControlStore.rules(Map.of("dualwrite.routing.strategy", "RANDOM")))
                .hasMessage("dualwrite.routing.strategy: unknown value 'RANDOM'; expected one of MODULO, HASH");
        assertThatThrownBy(() -> PropertiesControlStore.rules(Map.of("dualwrite.routing.strategy", "MODULO",
                "dualwrite.routing.allow", "12, bob"))).hasMessageStartingWith("dualwrite.routing.allow: ")
                .hasMessageContaining("'bob'");
        RoutingRules parsed = PropertiesControlStore.rules(Map.of("dualwrite.phase", "ramp", "dualwrite.routing.percent",
                "25", "dualwrite.routing.strategy", "modulo", "dualwrite.routing.allow", "1, 2", "dualwrite.routing.deny",
                List.of(3L)));
        assertThat(parsed).isEqualTo(new RoutingRules(Phase.RAMP, 25, RoutingStrategy.MODULO, Set.of("1", "2"),
                Set.of("3"), Route.SOURCE));
    }

    private static Object randomKey(Random random, RoutingStrategy strategy) {
        switch (random.nextInt(strategy == RoutingStrategy.MODULO ? 2 : 3)) {
            case 0:
                return random.nextLong(0, Long.MAX_VALUE);
            case 1:
                return random.nextInt(1_000_000);
            default:
                return "user-" + random.nextInt();
        }
    }
}
