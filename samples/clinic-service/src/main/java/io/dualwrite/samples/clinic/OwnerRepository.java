package io.dualwrite.samples.clinic;

import org.springframework.data.jpa.repository.JpaRepository;

/** Owners. */
interface OwnerRepository extends JpaRepository<Owner, Long> {
}
