package io.dualwrite.routing;

import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mirror.Mirror;
import java.time.Duration;
import java.util.List;
import javax.sql.DataSource;

/**
 * Copies one user's rows from the store that is its primary to the other store, for a per-user move
 * ({@link MigrationController#moveUser}). It runs while every instance holds the user's requests, after their
 * mirrors have drained, and the move becomes active only if it returns normally.
 */
@FunctionalInterface
public interface UserCopy {

    /**
     * @param key the user's routing key
     * @param from the user's route now: the store copied from
     * @param to the route the user moves to: the store copied into
     * @param timeout how long the copy may take
     * @throws Exception if any row could not be copied; the move is then reverted with this reason
     */
    void copy(Object key, Route from, Route to, Duration timeout) throws Exception;

    /**
     * The copy through the mirrors' locked apply: for each table with a routing column, in the order given, the
     * keys of the user's rows are read from both stores by that column, and handed to the apply of the right
     * direction ({@link Mirror#repair}) on the caller's thread: the forward mirror when the user's primary is
     * the source, the reverse mirror when it is the target. The apply reads each row from the primary under its
     * lock, writes it to the other store, and deletes there the rows gone from the primary.
     *
     * @param tables the mapped tables
     * @param order the source tables to copy, parents before children ({@code dualwrite.routing.move-order});
     *     empty for every mapped table with a routing column, in mapping order
     * @param forward the mirror from the source to the target
     * @param reverse the mirror from the target back to the source
     * @param source the source store, to find the user's keys
     * @param target the target store, to find the user's keys
     * @return the copy
     * @throws IllegalArgumentException naming a table of {@code order} that is not mapped or has no routing column
     */
    static UserCopy throughMirrors(MappedTables tables, List<String> order, Mirror forward, Mirror reverse,
            DataSource source, DataSource target) {
        return new MirrorUserCopy(tables, order, forward, reverse, source, target);
    }
}
