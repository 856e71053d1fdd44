/**
 * A clinic service as teams write them (Spring Data JPA, {@code IDENTITY} ids, Flyway, entities related by
 * foreign keys, an HTTP API under {@code /owners/{ownerId}}) and the few properties that migrate it from
 * MariaDB to PostgreSQL with dualwrite: issue 18's proof that the starter fits such an application.
 *
 * <p>Entry type: {@link io.dualwrite.samples.clinic.ClinicApplication}. Nothing here knows about the
 * migration except {@code application.properties} and the target's Flyway migrations: the routing key comes
 * from the library's web filter, writes are captured by the routing {@code DataSource}, ids are kept apart by
 * the library's id alignment.
 */
package io.dualwrite.samples.clinic;
