package io.dualwrite.routing;

import io.dualwrite.capture.DualWrite;
import io.dualwrite.capture.DualWriteKeyException;
import java.beans.PropertyDescriptor;
import java.lang.annotation.Annotation;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.aspectj.lang.ProceedingJoinPoint;
import org.aspectj.lang.annotation.Around;
import org.aspectj.lang.annotation.Aspect;
import org.aspectj.lang.reflect.MethodSignature;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.BeanUtils;
import org.springframework.context.expression.MethodBasedEvaluationContext;
import org.springframework.core.DefaultParameterNameDiscoverer;
import org.springframework.core.Ordered;
import org.springframework.core.ParameterNameDiscoverer;
import org.springframework.core.ResolvableType;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.expression.EvaluationException;
import org.springframework.expression.Expression;
import org.springframework.expression.ParseException;
import org.springframework.expression.spel.standard.SpelExpressionParser;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.util.ClassUtils;
import org.springframework.util.ReflectionUtils;

/**
 * Binds the routing key of a method call, before the transaction opens, from the first of:
 * <ol>
 * <li>a parameter annotated {@link RoutingKey} (also when the annotation sits on the interface the method
 *     implements, as on a Spring Data repository: {@code List<Pet> findByOwnerId(@RoutingKey Integer id)});</li>
 * <li>{@code routingKey} on {@link DualWrite};</li>
 * <li>an argument whose class has a {@link RoutingKey} field or no-argument method (an entity passed to
 *     {@code save}, {@code delete}), or an {@link Iterable} of such objects that all carry the same key.
 *     A member whose value is itself an object with a {@code @RoutingKey} member is followed
 *     ({@code @RoutingKey @ManyToOne Owner owner} and {@code @RoutingKey @Id Integer id} in {@code Owner}).
 *     A field is read through its JavaBean getter when there is one, so a lazy proxy answers.</li>
 * </ol>
 * It runs first of all advice ({@link Ordered#HIGHEST_PRECEDENCE}), so the key is bound before Spring's
 * transaction interceptor takes a connection — which is when the route is fixed. A method called inside an
 * existing scope for the same key joins it. A {@code @DualWrite} method without a routing key, called
 * outside any scope, runs in a scope with no key, so that its writes and the hand-over of its keys after it
 * returns share one route. A key bound inside a transaction that opened without one comes too late to route
 * it: that is logged once per method (bind the key where the transaction begins, or per web request).
 *
 * <p>The AspectJ pointcut below matches annotated parameters and {@code @DualWrite} methods; the Spring
 * Boot starter's advisor also matches methods whose parameter types carry a {@code @RoutingKey} member
 * ({@link #bindsFromArguments}).
 */
@Aspect
public class RoutingKeyAspect implements Ordered {

    private static final Log log = LogFactory.getLog(RoutingKeyAspect.class);
    private static final int MAX_DEPTH = 4;
    /** What a look at a call's arguments gives when none carries a key: the call binds nothing. */
    private static final Object NO_KEY = new Object();
    /** Argument types of these packages never carry an application's {@code @RoutingKey} member. */
    private static final String[] FRAMEWORK_PACKAGES = {"java.", "javax.", "jakarta.", "jdk.", "sun.", "com.sun.",
        "org.springframework.", "org.hibernate.", "org.apache.", "com.zaxxer.", "io.micrometer.", "tools.jackson.",
        "com.fasterxml.", "org.aspectj.", "kotlin."};
    private static final Map<Class<?>, Optional<Function<Object, Object>>> MEMBERS = new ConcurrentHashMap<>();

    private final SpelExpressionParser parser = new SpelExpressionParser();
    private final ParameterNameDiscoverer parameterNames = new DefaultParameterNameDiscoverer();
    private final Map<MethodOnClass, Optional<Function<Object[], Object>>> extractors = new ConcurrentHashMap<>();
    private final Set<Method> warnedLate = ConcurrentHashMap.newKeySet();

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }

    /**
     * Runs the method with its routing key bound.
     *
     * @param joinPoint the intercepted call
     * @return the method's result
     * @throws Throwable whatever the method throws, or {@link DualWriteKeyException} for a bad expression
     */
    @Around("execution(* *(.., @io.dualwrite.routing.RoutingKey (*), ..))"
            + " || @annotation(io.dualwrite.capture.DualWrite) || @annotation(io.dualwrite.capture.DualWrites)")
    public Object bindRoutingKey(ProceedingJoinPoint joinPoint) throws Throwable {
        Method invoked = ((MethodSignature) joinPoint.getSignature()).getMethod();
        Class<?> targetClass = joinPoint.getTarget() == null ? invoked.getDeclaringClass() : joinPoint.getTarget().getClass();
        Optional<Function<Object[], Object>> extractor = extractors.computeIfAbsent(
                new MethodOnClass(invoked, targetClass), m -> extractor(m.method(), m.targetClass()));
        if (extractor.isEmpty()) {
            if (RoutingContext.currentScope() != null) {
                return joinPoint.proceed();
            }
            // A @DualWrite method without a routing key still gets a scope: its keys are handed on when it
            // returns, after its connections are closed, and the scope keeps the route they were written by
            // (and keeps a ramp step waiting) until then.
            try (RoutingContext.Scope ignored = RoutingContext.open(null)) {
                return joinPoint.proceed();
            }
        }
        Object key = extractor.get().apply(joinPoint.getArgs());
        if (key == NO_KEY) {
            // A repository call whose arguments carry no key binds nothing: it runs as if not advised.
            return joinPoint.proceed();
        }
        if (key != null && RoutingContext.currentKey() == null
                && TransactionSynchronizationManager.isActualTransactionActive() && warnedLate.add(invoked)) {
            log.warn("dualwrite: " + invoked.getDeclaringClass().getName() + "." + invoked.getName() + "() binds routing"
                    + " key " + key + " inside a transaction that began without one, whose route was fixed when it"
                    + " took its connection: the key does not route it. Bind the key where the transaction begins"
                    + " (@RoutingKey on the @Transactional method, RoutingContext) or per web request"
                    + " (dualwrite.routing.web.*). Logged once per method");
        }
        try (RoutingContext.Scope ignored = RoutingContext.open(key)) {
            return joinPoint.proceed();
        }
    }

    /**
     * Whether a method binds a routing key from its arguments' {@link RoutingKey} members: some parameter's
     * type (resolved against the class the method is called on, so a generic {@code save(S)} of a Spring Data
     * repository counts as its entity type), or the element type of an {@link Iterable} parameter, has one.
     *
     * @param method the method
     * @param targetClass the class it is called on
     * @return true if an argument may carry the key
     */
    public static boolean bindsFromArguments(Method method, Class<?> targetClass) {
        for (int i = 0; i < method.getParameterCount(); i++) {
            Class<?> type = parameterClass(method, i, targetClass);
            if (memberReader(type).isPresent() || (type == Object.class && springDataRepository(targetClass))) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether a parameter of the method, or of an interface method it implements, is annotated {@link RoutingKey}.
     *
     * @param method the method
     * @return true if one is
     */
    public static boolean hasRoutingKeyParameter(Method method) {
        return routingKeyParameter(method) >= 0;
    }

    private static int routingKeyParameter(Method method) {
        if (method.getParameterCount() == 0) {
            return -1;
        }
        int found = annotatedParameter(method);
        if (found >= 0 || Modifier.isPrivate(method.getModifiers()) || Modifier.isStatic(method.getModifiers())) {
            return found;
        }
        // The declarations this method implements or overrides: Spring Data repositories carry their
        // annotations on the interface, while the invocation may name the proxy's or the class's method.
        for (Class<?> type : ClassUtils.getAllInterfacesForClassAsSet(method.getDeclaringClass())) {
            found = declaredAnnotatedParameter(type, method);
            if (found >= 0) {
                return found;
            }
        }
        for (Class<?> c = method.getDeclaringClass().getSuperclass(); c != null && c != Object.class;
                c = c.getSuperclass()) {
            found = declaredAnnotatedParameter(c, method);
            if (found >= 0) {
                return found;
            }
        }
        return -1;
    }

    private static int declaredAnnotatedParameter(Class<?> type, Method method) {
        try {
            return annotatedParameter(type.getDeclaredMethod(method.getName(), method.getParameterTypes()));
        } catch (NoSuchMethodException notDeclaredThere) {
            return -1;
        }
    }

    private static int annotatedParameter(Method method) {
        Annotation[][] annotations = method.getParameterAnnotations();
        for (int i = 0; i < annotations.length; i++) {
            for (Annotation annotation : annotations[i]) {
                if (annotation instanceof RoutingKey) {
                    return i;
                }
            }
        }
        return -1;
    }

    private Optional<Function<Object[], Object>> extractor(Method invoked, Class<?> targetClass) {
        Method method = AopUtils.getMostSpecificMethod(invoked, targetClass);
        int parameter = routingKeyParameter(invoked);
        if (parameter < 0 && method != invoked) {
            parameter = routingKeyParameter(method);
        }
        if (parameter >= 0) {
            int index = parameter;
            return Optional.of(args -> args[index]);
        }
        Set<DualWrite> writes = AnnotatedElementUtils.findMergedRepeatableAnnotations(method, DualWrite.class);
        for (DualWrite write : writes) {
            if (!write.routingKey().isBlank()) {
                String source = write.routingKey();
                Expression expression;
                try {
                    expression = parser.parseExpression(source);
                } catch (ParseException e) {
                    throw new DualWriteKeyException(describe(method, source) + " does not parse: " + e.getMessage(), e);
                }
                return Optional.of(args -> {
                    try {
                        return expression.getValue(new MethodBasedEvaluationContext(null, method, args, parameterNames));
                    } catch (EvaluationException e) {
                        throw new DualWriteKeyException(describe(method, source) + " failed: " + e.getMessage(), e);
                    }
                });
            }
        }
        boolean generic = false;
        for (int i = 0; i < invoked.getParameterCount(); i++) {
            Class<?> type = parameterClass(invoked, i, targetClass);
            if (memberReader(type).isPresent()) {
                int index = i;
                return Optional.of(args -> keyOfArgument(args[index]));
            }
            generic |= type == Object.class;
        }
        if (generic && springDataRepository(targetClass)) {
            // A repository's own implementation (SimpleJpaRepository<T, ID>) leaves save(S)'s entity type
            // open: look at the arguments of each call.
            return Optional.of(RoutingKeyAspect::keyOfAnyArgument);
        }
        return Optional.empty();
    }

    private static Object keyOfAnyArgument(Object[] args) {
        for (Object arg : args) {
            Object first = arg instanceof Iterable<?> items ? first(items) : arg;
            if (first != null && memberReader(first.getClass()).isPresent()) {
                Object key = keyOfArgument(arg);
                return key == null ? NO_KEY : key;
            }
        }
        return NO_KEY;
    }

    private static Object first(Iterable<?> items) {
        java.util.Iterator<?> it = items.iterator();
        return it.hasNext() ? it.next() : null;
    }

    private static boolean springDataRepository(Class<?> type) {
        for (Class<?> itf : ClassUtils.getAllInterfacesForClassAsSet(type)) {
            if (itf.getName().equals("org.springframework.data.repository.Repository")) {
                return true;
            }
        }
        return false;
    }

    /** The declared class of a parameter, or of an {@link Iterable} parameter's elements. */
    private static Class<?> parameterClass(Method method, int index, Class<?> targetClass) {
        ResolvableType type = ResolvableType.forMethodParameter(method, index, targetClass);
        if (Iterable.class.isAssignableFrom(type.toClass())) {
            type = type.as(Iterable.class).getGeneric(0);
        }
        return type.toClass();
    }

    /**
     * The routing key an argument carries through its {@link RoutingKey} member: for an {@link Iterable}, the
     * one key all its elements carry, or null when they differ.
     */
    private static Object keyOfArgument(Object argument) {
        if (argument instanceof Iterable<?> items) {
            Object common = null;
            for (Object item : items) {
                Object key = keyOf(item, 0);
                if (key == null || (common != null && !TrafficRouter.text(common).equals(TrafficRouter.text(key)))) {
                    return null;
                }
                common = key;
            }
            return common;
        }
        return keyOf(argument, 0);
    }

    private static Object keyOf(Object value, int depth) {
        if (value == null) {
            return null;
        }
        Optional<Function<Object, Object>> reader = memberReader(value.getClass());
        if (reader.isEmpty()) {
            return value;
        }
        if (depth >= MAX_DEPTH) {
            throw new DualWriteKeyException("@RoutingKey members of " + value.getClass().getName() + " are followed"
                    + " more than " + MAX_DEPTH + " levels deep; annotate the member that holds the key itself", null);
        }
        return keyOf(reader.get().apply(value), depth + 1);
    }

    /** Reads the {@link RoutingKey} field or no-argument method of a class or its superclasses. */
    private static Optional<Function<Object, Object>> memberReader(Class<?> type) {
        if (type == null || type == Object.class || type.isPrimitive() || type.isArray() || type.isInterface()
                || frameworkType(type.getName())) {
            return Optional.empty();
        }
        return MEMBERS.computeIfAbsent(type, RoutingKeyAspect::findMember);
    }

    private static boolean frameworkType(String name) {
        for (String prefix : FRAMEWORK_PACKAGES) {
            if (name.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    private static Optional<Function<Object, Object>> findMember(Class<?> type) {
        try {
            return findMemberOf(type);
        } catch (LinkageError unloadable) {
            // A class whose members name an optional dependency that is absent: not an argument carrying a key.
            return Optional.empty();
        }
    }

    private static Optional<Function<Object, Object>> findMemberOf(Class<?> type) {
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Method method : c.getDeclaredMethods()) {
                if (method.isAnnotationPresent(RoutingKey.class) && method.getParameterCount() == 0
                        && !method.isSynthetic()) {
                    ReflectionUtils.makeAccessible(method);
                    return Optional.of(target -> ReflectionUtils.invokeMethod(method, target));
                }
            }
            for (Field field : c.getDeclaredFields()) {
                if (field.isAnnotationPresent(RoutingKey.class)) {
                    PropertyDescriptor property = BeanUtils.getPropertyDescriptor(c, field.getName());
                    Method getter = property == null ? null : property.getReadMethod();
                    if (getter != null) {
                        ReflectionUtils.makeAccessible(getter);
                        return Optional.of(target -> ReflectionUtils.invokeMethod(getter, target));
                    }
                    ReflectionUtils.makeAccessible(field);
                    return Optional.of(target -> ReflectionUtils.getField(field, target));
                }
            }
        }
        return Optional.empty();
    }

    private static String describe(Method method, String source) {
        return "@DualWrite(routingKey = \"" + source + "\") on " + method.getDeclaringClass().getName() + "."
                + method.getName() + "()";
    }

    private record MethodOnClass(Method method, Class<?> targetClass) {
    }
}
