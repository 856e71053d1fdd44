package io.dualwrite.autoconfigure;

import io.dualwrite.routing.DesiredSettings;
import io.dualwrite.routing.Phase;
import java.lang.reflect.Method;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.ApplicationEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.core.env.Environment;

/**
 * Follows a refresh of the configuration ({@code dualwrite.routing.follow-refresh}): when an application
 * event says which keys changed — Spring Cloud's {@code EnvironmentChangeEvent}, or any event with a public
 * {@code getKeys()} returning the changed keys, so Spring Cloud need not be on the class path — and they
 * include {@code dualwrite.phase} or {@code dualwrite.routing.percent}, {@code allow} or {@code deny}, the
 * new values are read from the environment and offered to {@link DesiredSettings}: only the parts whose
 * value changed since the last read, so that a refresh of something else never undoes a step made through
 * the endpoint. The properties otherwise only seed a new control store.
 */
final class RefreshedSettings implements ApplicationListener<ApplicationEvent> {

    static final String SOURCE = "refreshed properties";
    private static final Log log = LogFactory.getLog(RefreshedSettings.class);

    private final Environment environment;
    private final DesiredSettings desired;
    private Snapshot seen;

    RefreshedSettings(Environment environment, DesiredSettings desired) {
        this.environment = Objects.requireNonNull(environment, "environment");
        this.desired = Objects.requireNonNull(desired, "desired");
        this.seen = read();
    }

    @Override
    public void onApplicationEvent(ApplicationEvent event) {
        Set<String> keys = changedKeys(event);
        if (keys == null || keys.stream().noneMatch(RefreshedSettings::steers)) {
            return;
        }
        Snapshot now;
        try {
            now = read();
        } catch (RuntimeException e) {
            log.warn("dualwrite: the refreshed dualwrite.phase / dualwrite.routing.* do not bind, so they are not"
                    + " asked for: " + e.getMessage());
            return;
        }
        Snapshot before;
        synchronized (this) {
            before = seen;
            seen = now;
        }
        DesiredSettings.Desired wanted;
        try {
            wanted = new DesiredSettings.Desired(Objects.equals(now.phase, before.phase) ? null : now.phase,
                    Objects.equals(now.percent, before.percent) ? null : now.percent,
                    now.allow.equals(before.allow) ? null : now.allow, now.deny.equals(before.deny) ? null : now.deny);
        } catch (IllegalArgumentException refused) {
            log.warn("dualwrite: the refreshed setting is not asked for: " + refused.getMessage());
            return;
        }
        desired.offer(wanted, SOURCE);
    }

    private static boolean steers(String key) {
        String k = key.toLowerCase(java.util.Locale.ROOT).replace("_", "-");
        return k.equals("dualwrite.phase") || k.startsWith("dualwrite.routing.percent")
                || k.startsWith("dualwrite.routing.allow") || k.startsWith("dualwrite.routing.deny");
    }

    /** The changed keys an event names through a public {@code getKeys()}, or null if it names none. */
    @SuppressWarnings("unchecked")
    private static Set<String> changedKeys(ApplicationEvent event) {
        Method getKeys;
        try {
            getKeys = event.getClass().getMethod("getKeys");
        } catch (NoSuchMethodException e) {
            return null;
        }
        if (!Set.class.isAssignableFrom(getKeys.getReturnType())) {
            return null;
        }
        try {
            return (Set<String>) getKeys.invoke(event);
        } catch (ReflectiveOperationException | ClassCastException e) {
            return null;
        }
    }

    private Snapshot read() {
        Binder binder = Binder.get(environment);
        Phase phase = binder.bind("dualwrite.phase", Phase.class).orElse(Phase.SOURCE_ONLY);
        Integer percent = binder.bind("dualwrite.routing.percent", Integer.class).orElse(0);
        Set<String> allow = new LinkedHashSet<>(binder.bind("dualwrite.routing.allow", Bindable.listOf(String.class))
                .orElse(List.of()));
        Set<String> deny = new LinkedHashSet<>(binder.bind("dualwrite.routing.deny", Bindable.listOf(String.class))
                .orElse(List.of()));
        return new Snapshot(phase, percent, allow, deny);
    }

    private record Snapshot(Phase phase, Integer percent, Set<String> allow, Set<String> deny) {
    }
}
