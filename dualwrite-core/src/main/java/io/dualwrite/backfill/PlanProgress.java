package io.dualwrite.backfill;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A snapshot of one {@link BackfillPlan}, read from the target's plan and checkpoint tables, so the same on
 * every instance.
 *
 * @param plan the plan's name
 * @param status where the plan stands: NOT_STARTED, then the current stage's status, DONE at the end; FAILED
 *     or PAUSED while a stage is
 * @param currentStage the index of the first stage not done, or the number of stages when all are
 * @param rowsCopied rows copied over every stage and table so far
 * @param stages each stage's progress, in order
 * @param lastError the last problem this instance met driving the plan (a store unreachable, a check that
 *     could not run), if any
 */
public record PlanProgress(String plan, BackfillPlan.Status status, int currentStage, long rowsCopied,
        List<StageProgress> stages, Optional<String> lastError) {

    /** Copies the list. */
    public PlanProgress {
        stages = List.copyOf(stages);
    }

    /**
     * One stage's progress.
     *
     * @param stage the stage's name
     * @param status where it stands
     * @param table the table being copied, while RUNNING
     * @param rowsCopied rows copied by the stage, over its tables
     * @param failedRows rows the stage could not copy
     * @param rangesDone key ranges finished, over its tables started so far
     * @param ranges key ranges of its tables started so far
     * @param gateResult the reconcile gate's verdict ({@code passed: ...} or {@code failed: ...}), if it ran
     * @param approvedBy who approved it, if someone did
     * @param approvedAt when
     * @param approvalReason the reason they gave
     * @param reason why it is paused or failed
     * @param startedAt when its copy began
     * @param finishedAt when it went through its gates
     */
    public record StageProgress(String stage, BackfillPlan.Status status, Optional<String> table, long rowsCopied,
            long failedRows, int rangesDone, int ranges, Optional<String> gateResult, Optional<String> approvedBy,
            Optional<Instant> approvedAt, Optional<String> approvalReason, Optional<String> reason,
            Optional<Instant> startedAt, Optional<Instant> finishedAt) {
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder("backfill plan " + plan + ": " + status + ", " + rowsCopied + " rows");
        for (StageProgress stage : stages) {
            text.append("; ").append(stage.stage()).append(' ').append(stage.status()).append(' ')
                    .append(stage.rowsCopied()).append(" rows");
            stage.gateResult().ifPresent(g -> text.append(", gate ").append(g));
            stage.approvedBy().ifPresent(a -> text.append(", approved by ").append(a));
            stage.reason().ifPresent(r -> text.append(", ").append(r));
        }
        lastError.ifPresent(e -> text.append("; last error: ").append(e));
        return text.toString();
    }
}
