package io.dualwrite.autoconfigure;

import io.dualwrite.event.DualWriteEventListener;
import io.dualwrite.event.EventPublisher;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;

/**
 * Subscribes every {@link DualWriteEventListener} bean (the application's, and the metrics binder) to
 * the library's {@link EventPublisher} once all singletons exist. Subscribing later than the
 * publisher's creation keeps listeners that need the mirror (the metrics' queue gauge) out of a
 * dependency cycle; a write made before that moment is mirrored but not counted.
 */
final class EventListenerSubscriber implements SmartInitializingSingleton {

    private final EventPublisher events;
    private final ObjectProvider<DualWriteEventListener> listeners;

    EventListenerSubscriber(EventPublisher events, ObjectProvider<DualWriteEventListener> listeners) {
        this.events = events;
        this.listeners = listeners;
    }

    @Override
    public void afterSingletonsInstantiated() {
        listeners.orderedStream().forEach(events::subscribe);
    }
}
