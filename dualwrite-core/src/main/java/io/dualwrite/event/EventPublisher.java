package io.dualwrite.event;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Fans events out to listeners. A listener that throws is logged and skipped: reporting never breaks
 * the work being reported.
 */
public final class EventPublisher {

    private static final Log log = LogFactory.getLog(EventPublisher.class);

    private final List<DualWriteEventListener> listeners = new CopyOnWriteArrayList<>();

    /**
     * Adds a listener.
     *
     * @param listener the listener
     * @return this publisher
     */
    public EventPublisher subscribe(DualWriteEventListener listener) {
        listeners.add(listener);
        return this;
    }

    /**
     * Removes a listener.
     *
     * @param listener the listener
     */
    public void unsubscribe(DualWriteEventListener listener) {
        listeners.remove(listener);
    }

    /**
     * Delivers an event to every listener.
     *
     * @param event the event
     */
    public void publish(DualWriteEvent event) {
        for (DualWriteEventListener listener : listeners) {
            try {
                listener.onEvent(event);
            } catch (RuntimeException e) {
                log.warn("dualwrite event listener " + listener + " failed on " + event.getClass().getSimpleName(), e);
            }
        }
    }
}
