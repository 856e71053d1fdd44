package io.dualwrite.samples.clinic;

import java.util.Optional;
import org.springframework.data.jpa.repository.JpaRepository;

/** Visits, always looked up within their pet. */
interface VisitRepository extends JpaRepository<Visit, Long> {

    Optional<Visit> findByIdAndPetId(Long id, Long petId);
}
