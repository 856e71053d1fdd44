package io.dualwrite.samples.clinic;

import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

/**
 * The clinic's HTTP API. Everything under {@code /owners/{ownerId}} is routed by that owner (the library's
 * filter, {@code dualwrite.routing.web.*}); registering an owner carries no key and takes the default route.
 */
@RestController
class ClinicController {

    private final ClinicService clinic;

    ClinicController(ClinicService clinic) {
        this.clinic = clinic;
    }

    @PostMapping("/owners")
    Map<String, Long> registerOwner(@RequestBody String name) {
        return Map.of("id", clinic.registerOwner(name));
    }

    @PostMapping("/owners/{ownerId}/pets")
    Map<String, Long> addPet(@PathVariable long ownerId, @RequestBody String name) {
        return Map.of("id", clinic.addPet(ownerId, name));
    }

    @GetMapping("/owners/{ownerId}/pets")
    List<String> pets(@PathVariable long ownerId) {
        return clinic.petNames(ownerId);
    }

    @PutMapping("/owners/{ownerId}/pets/{petId}")
    void renamePet(@PathVariable long ownerId, @PathVariable long petId, @RequestBody String name) {
        clinic.renamePet(ownerId, petId, name);
    }

    @PostMapping("/owners/{ownerId}/pets/{petId}/visits")
    Map<String, Long> addVisit(@PathVariable long ownerId, @PathVariable long petId, @RequestBody String description) {
        return Map.of("id", clinic.addVisit(ownerId, petId, description));
    }

    @DeleteMapping("/owners/{ownerId}/pets/{petId}/visits/{visitId}")
    void cancelVisit(@PathVariable long ownerId, @PathVariable long petId, @PathVariable long visitId) {
        clinic.cancelVisit(ownerId, petId, visitId);
    }

    @ExceptionHandler(NoSuchElementException.class)
    @ResponseStatus(HttpStatus.NOT_FOUND)
    Map<String, String> notFound(NoSuchElementException e) {
        return Map.of("error", e.getMessage());
    }
}
