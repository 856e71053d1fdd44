package io.dualwrite.routing;

/** Reaches the controller's {@code *ForTesting} switches from tests in other packages. */
public final class ControllerTestHooks {

    private ControllerTestHooks() {
    }

    /**
     * Switches the ramp barrier off: steps neither hold nor wait. Only for a negative control.
     *
     * @param controller the controller
     * @param on whether the barrier runs
     */
    public static void barrier(MigrationController controller, boolean on) {
        controller.barrierForTesting(on);
    }
}
