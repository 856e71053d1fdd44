package io.dualwrite.samples.clinic;

import java.util.List;
import java.util.NoSuchElementException;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** The clinic's use cases, one transaction each, as an ordinary JPA service writes them. */
@Service
public class ClinicService {

    private final OwnerRepository owners;
    private final PetRepository pets;
    private final VisitRepository visits;

    ClinicService(OwnerRepository owners, PetRepository pets, VisitRepository visits) {
        this.owners = owners;
        this.pets = pets;
        this.visits = visits;
    }

    /**
     * @param name the owner's name
     * @return the new owner's id
     */
    @Transactional
    public long registerOwner(String name) {
        return owners.save(new Owner(name)).getId();
    }

    /**
     * @param ownerId the owner
     * @param name the pet's name
     * @return the new pet's id
     * @throws NoSuchElementException if there is no such owner
     */
    @Transactional
    public long addPet(long ownerId, String name) {
        Owner owner = owners.findById(ownerId).orElseThrow(() -> new NoSuchElementException("owner " + ownerId));
        return pets.save(new Pet(owner, name)).getId();
    }

    /**
     * @param ownerId the owner
     * @param petId the pet
     * @param name the new name
     * @throws NoSuchElementException if the owner has no such pet
     */
    @Transactional
    public void renamePet(long ownerId, long petId, String name) {
        pet(ownerId, petId).rename(name);
    }

    /**
     * @param ownerId the owner
     * @param petId the pet
     * @param description what was done
     * @return the new visit's id
     * @throws NoSuchElementException if the owner has no such pet
     */
    @Transactional
    public long addVisit(long ownerId, long petId, String description) {
        return visits.save(new Visit(pet(ownerId, petId), description)).getId();
    }

    /**
     * @param ownerId the owner
     * @param petId the pet
     * @param visitId the visit
     * @throws NoSuchElementException if the owner's pet has no such visit
     */
    @Transactional
    public void cancelVisit(long ownerId, long petId, long visitId) {
        Pet pet = pet(ownerId, petId);
        visits.delete(visits.findByIdAndPetId(visitId, pet.getId())
                .orElseThrow(() -> new NoSuchElementException("visit " + visitId)));
    }

    /**
     * @param ownerId the owner
     * @return the names of the owner's pets, by id
     */
    @Transactional(readOnly = true)
    public List<String> petNames(long ownerId) {
        return pets.findByOwnerIdOrderById(ownerId).stream().map(Pet::getName).toList();
    }

    private Pet pet(long ownerId, long petId) {
        return pets.findByIdAndOwnerId(petId, ownerId).orElseThrow(() -> new NoSuchElementException("pet " + petId
                + " of owner " + ownerId));
    }
}
