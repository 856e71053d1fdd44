package io.dualwrite.samples.clinic;

import java.util.List;
import java.util.Optional;
import org.springframework.data.jpa.repository.JpaRepository;

/** Pets, always looked up within their owner. */
interface PetRepository extends JpaRepository<Pet, Long> {

    List<Pet> findByOwnerIdOrderById(Long ownerId);

    Optional<Pet> findByIdAndOwnerId(Long id, Long ownerId);
}
