package io.dualwrite.autoconfigure.jpa;

import io.dualwrite.routing.RoutingKey;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.FetchType;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.JoinColumn;
import jakarta.persistence.ManyToOne;
import jakarta.persistence.Table;
import java.time.LocalDateTime;
import java.util.List;
import java.util.Map;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.config.EnableJpaRepositories;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * A JPA application as teams write them (issue 18): Spring Data repositories, {@code IDENTITY} ids, a pet
 * reaching its owner (the routing key) through a foreign key, a service whose {@code @Transactional} method
 * takes the connection, and a controller under {@code /owners/{ownerId}}.
 */
@SpringBootApplication
@EnableJpaRepositories(considerNestedRepositories = true)
public class PetApplication {

    /** An owner; its id is the routing key. */
    @Entity
    @Table(name = "owners")
    public static class Owner {
        @Id
        @GeneratedValue(strategy = GenerationType.IDENTITY)
        @RoutingKey
        private Long id;

        private String name;

        @Column(name = "gmt_modified")
        private LocalDateTime gmtModified = LocalDateTime.now();

        public Long getId() {
            return id;
        }

        public String getName() {
            return name;
        }
    }

    /** A pet; it reaches the routing key through its owner. */
    @Entity
    @Table(name = "pets")
    public static class Pet {
        @Id
        @GeneratedValue(strategy = GenerationType.IDENTITY)
        private Long id;

        @RoutingKey
        @ManyToOne(fetch = FetchType.LAZY)
        @JoinColumn(name = "owner_id")
        private Owner owner;

        private String name;

        @Column(name = "gmt_modified")
        private LocalDateTime gmtModified = LocalDateTime.now();

        protected Pet() {
        }

        public Pet(Owner owner, String name) {
            this.owner = owner;
            this.name = name;
        }

        public Long getId() {
            return id;
        }

        public Owner getOwner() {
            return owner;
        }

        public String getName() {
            return name;
        }
    }

    /** Owners. */
    public interface Owners extends JpaRepository<Owner, Long> {
    }

    /** Pets; the derived query names its routing key. */
    public interface Pets extends JpaRepository<Pet, Long> {
        List<Pet> findByOwnerId(@RoutingKey Long ownerId);
    }

    /** The service layer: its transaction begins before any repository call. */
    @Service
    public static class Clinic {
        private final Owners owners;
        private final Pets pets;

        public Clinic(Owners owners, Pets pets) {
            this.owners = owners;
            this.pets = pets;
        }

        @Transactional
        public Pet addPet(long ownerId, String name) {
            return pets.save(new Pet(owners.getReferenceById(ownerId), name));
        }
    }

    /** The web layer: the routing key is in the path, bound by the starter's filter. */
    @RestController
    public static class PetController {
        private final Clinic clinic;
        private final Pets pets;

        public PetController(Clinic clinic, Pets pets) {
            this.clinic = clinic;
            this.pets = pets;
        }

        @PostMapping("/owners/{ownerId}/pets")
        public Map<String, Object> add(@PathVariable long ownerId, @RequestBody String name) {
            return Map.of("id", clinic.addPet(ownerId, name).getId());
        }

        @GetMapping("/owners/{ownerId}/pets")
        public List<String> list(@PathVariable long ownerId) {
            return pets.findByOwnerId(ownerId).stream().map(Pet::getName).toList();
        }

        @GetMapping("/pets/count")
        public long count() {
            return pets.count();
        }
    }
}
