package io.dualwrite.samples.clinic;

import jakarta.persistence.Entity;
import jakarta.persistence.FetchType;
import jakarta.persistence.JoinColumn;
import jakarta.persistence.ManyToOne;
import jakarta.persistence.Table;

/** A pet, owned by one owner ({@code pets.owner_id}). */
@Entity
@Table(name = "pets")
public class Pet extends ClinicRecord {

    @ManyToOne(fetch = FetchType.LAZY, optional = false)
    @JoinColumn(name = "owner_id")
    private Owner owner;

    private String name;

    protected Pet() {
    }

    /**
     * @param owner the owner
     * @param name the pet's name
     */
    public Pet(Owner owner, String name) {
        this.owner = owner;
        this.name = name;
    }

    /** @return the owner (lazy) */
    public Owner getOwner() {
        return owner;
    }

    /** @return the name */
    public String getName() {
        return name;
    }

    /** @param name the new name */
    public void rename(String name) {
        this.name = name;
    }
}
