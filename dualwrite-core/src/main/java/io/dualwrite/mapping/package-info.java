/**
 * Which source table goes to which target table, and how a row changes on the way.
 *
 * <p>Entry types: {@link io.dualwrite.mapping.TableMapping} (what the user declares, built with
 * {@link io.dualwrite.mapping.TableMapping#builder(String)}) and
 * {@link io.dualwrite.mapping.MappedTables} (the declarations checked against both stores' metadata,
 * ready for the mirror, the backfill and the verifier). {@link io.dualwrite.mapping.RowTransformer} is
 * the escape hatch for anything a declaration cannot say.
 *
 * <p>Validation reports every problem it finds in one {@link io.dualwrite.mapping.MappingException},
 * each naming the table, the column and the {@code dualwrite.tables.*} property that fixes it. This
 * package never writes to a store.
 */
package io.dualwrite.mapping;
