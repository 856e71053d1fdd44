/**
 * Which source table goes to which target table, and how a row and its key change on the way.
 *
 * <p>Entry types: {@link io.dualwrite.mapping.TableMapping} (what the user declares, built with
 * {@link io.dualwrite.mapping.TableMapping#builder(String)}) and
 * {@link io.dualwrite.mapping.MappedTables} (the declarations checked against both stores' metadata,
 * ready for the mirror, the backfill and the verifier). {@link io.dualwrite.mapping.MappedTable} is the
 * one place rows and keys are transformed, in both directions.
 *
 * <p>A declaration can rename and ignore columns, convert values with a
 * {@link io.dualwrite.mapping.ColumnConverter} (built-ins in {@link io.dualwrite.mapping.Converters}:
 * number and text, code tables, JSON, minor units, timestamp precision, time zones, splitting one
 * column into several), fill new target columns with constants, and map keys with a
 * {@link io.dualwrite.mapping.KeyMapping} (identity, offset, or the {@code dualwrite_id_map} table).
 * {@link io.dualwrite.mapping.RowTransformer} is the escape hatch for anything a declaration cannot
 * say; one that cannot map back makes its table one-way, and RAMP is refused for it.
 *
 * <p>Column types are checked at start-up, pair by pair: a value the target column takes as it is passes,
 * a pair with one meaning (a {@code SET} into an array, {@code TINYINT(1)} into {@code boolean}, {@code DATETIME}
 * into {@code date} or {@code timestamptz}, ...) gets the {@link io.dualwrite.mapping.Converters} converter it
 * implies, and any other pair is reported with the {@code convert.<column>.type} that fits. Implied
 * converters live in {@link io.dualwrite.mapping.MappedTable} beside the declared ones, so the mirror, the
 * backfill and the verifier all use them.
 *
 * <p>{@link io.dualwrite.mapping.UniqueMoves} plans the write of a batch whose unique values (in a
 * unique index of the target besides its key) moved between keys: it reads which other keys hold them
 * and brings those along from the primary, so that no write meets another key's row. It only reads; the
 * mirror and the backfill carry the plan out in their own transactions.
 *
 * <p>Validation reports every problem it finds in one {@link io.dualwrite.mapping.MappingException},
 * each naming the table, the column and the {@code dualwrite.tables.*} property that fixes it. A value
 * that does not convert fails its whole row with a message naming table, key, column and value; a row
 * is never written half-converted. This package never writes an application's tables; the only table
 * it writes is {@code dualwrite_id_map} in the target, and it creates that only when told to.
 */
package io.dualwrite.mapping;
