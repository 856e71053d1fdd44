package io.dualwrite.event;

/** Receives the library's events. Called on the thread that did the work: keep it fast. */
@FunctionalInterface
public interface DualWriteEventListener {

    /**
     * Handles an event.
     *
     * @param event the event
     */
    void onEvent(DualWriteEvent event);
}
