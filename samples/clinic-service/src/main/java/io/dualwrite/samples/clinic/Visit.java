package io.dualwrite.samples.clinic;

import jakarta.persistence.Entity;
import jakarta.persistence.FetchType;
import jakarta.persistence.JoinColumn;
import jakarta.persistence.ManyToOne;
import jakarta.persistence.Table;

/** A visit of one pet ({@code visits.pet_id}); it reaches its owner only through the pet. */
@Entity
@Table(name = "visits")
public class Visit extends ClinicRecord {

    @ManyToOne(fetch = FetchType.LAZY, optional = false)
    @JoinColumn(name = "pet_id")
    private Pet pet;

    private String description;

    protected Visit() {
    }

    /**
     * @param pet the pet seen
     * @param description what was done
     */
    public Visit(Pet pet, String description) {
        this.pet = pet;
        this.description = description;
    }

    /** @return the pet (lazy) */
    public Pet getPet() {
        return pet;
    }

    /** @return what was done */
    public String getDescription() {
        return description;
    }
}
