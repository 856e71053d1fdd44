package io.dualwrite.ids;

import java.lang.reflect.Member;
import java.util.EnumSet;
import org.hibernate.engine.spi.SharedSessionContractImplementor;
import org.hibernate.generator.BeforeExecutionGenerator;
import org.hibernate.generator.EventType;
import org.hibernate.generator.EventTypeSets;
import org.hibernate.generator.GeneratorCreationContext;

/**
 * The Hibernate side of {@link SegmentId}: Hibernate creates one per annotated id and asks it for an id
 * before each insert. It finds the installed {@link SegmentIdGenerator} at the first insert, not at boot, so
 * the persistence unit may start before the generator is installed. Public only because Hibernate
 * instantiates it.
 */
public final class SegmentIdHibernateGenerator implements BeforeExecutionGenerator {

    private static final long serialVersionUID = 1L;

    private final String name;
    private final boolean narrow;

    /**
     * Called by Hibernate for each {@link SegmentId} id.
     *
     * @param config the annotation
     * @param member the annotated field or getter
     * @param context the entity being mapped
     * @throws IllegalArgumentException if the id's type is not a long or int
     */
    public SegmentIdHibernateGenerator(SegmentId config, Member member, GeneratorCreationContext context) {
        this.name = config.value().isEmpty() ? context.getPersistentClass().getTable().getName() : config.value();
        Class<?> type = member instanceof java.lang.reflect.Field field ? field.getType()
                : ((java.lang.reflect.Method) member).getReturnType();
        if (type != Long.class && type != long.class && type != Integer.class && type != int.class) {
            throw new IllegalArgumentException("@SegmentId on " + member.getDeclaringClass().getName() + "."
                    + member.getName() + ": the id is a " + type.getName() + "; use long, Long, int or Integer");
        }
        this.narrow = type == Integer.class || type == int.class;
    }

    @Override
    public Object generate(SharedSessionContractImplementor session, Object owner, Object currentValue,
            EventType eventType) {
        if (currentValue != null) {
            return currentValue;
        }
        long id = SegmentIdGenerator.installed().next(name);
        return narrow ? Math.toIntExact(id) : id;
    }

    @Override
    public boolean allowAssignedIdentifiers() {
        return true;
    }

    @Override
    public EnumSet<EventType> getEventTypes() {
        return EventTypeSets.INSERT_ONLY;
    }
}
