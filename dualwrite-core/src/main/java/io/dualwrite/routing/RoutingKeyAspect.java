package io.dualwrite.routing;

import io.dualwrite.capture.DualWrite;
import io.dualwrite.capture.DualWriteKeyException;
import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.aspectj.lang.ProceedingJoinPoint;
import org.aspectj.lang.annotation.Around;
import org.aspectj.lang.annotation.Aspect;
import org.aspectj.lang.reflect.MethodSignature;
import org.springframework.aop.support.AopUtils;
import org.springframework.context.expression.MethodBasedEvaluationContext;
import org.springframework.core.DefaultParameterNameDiscoverer;
import org.springframework.core.Ordered;
import org.springframework.core.ParameterNameDiscoverer;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.expression.EvaluationException;
import org.springframework.expression.Expression;
import org.springframework.expression.ParseException;
import org.springframework.expression.spel.standard.SpelExpressionParser;

/**
 * Binds the routing key of methods with a {@link RoutingKey} parameter or a {@code routingKey} on
 * {@link DualWrite} for the call. It runs first of all advice ({@link Ordered#HIGHEST_PRECEDENCE}), so
 * the key is bound before Spring's transaction interceptor takes a connection — which is when the route
 * is fixed. A method called inside an existing scope for the same key joins it. A {@code @DualWrite}
 * method without a routing key, called outside any scope, runs in a scope with no key, so that its
 * writes and the hand-over of its keys after it returns share one route.
 */
@Aspect
public class RoutingKeyAspect implements Ordered {

    private final SpelExpressionParser parser = new SpelExpressionParser();
    private final ParameterNameDiscoverer parameterNames = new DefaultParameterNameDiscoverer();
    private final Map<Method, Optional<Function<Object[], Object>>> extractors = new ConcurrentHashMap<>();

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
        Method method = ((MethodSignature) joinPoint.getSignature()).getMethod();
        if (joinPoint.getTarget() != null) {
            method = AopUtils.getMostSpecificMethod(method, joinPoint.getTarget().getClass());
        }
        Optional<Function<Object[], Object>> extractor = extractors.computeIfAbsent(method, this::extractor);
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
        try (RoutingContext.Scope ignored = RoutingContext.open(extractor.get().apply(joinPoint.getArgs()))) {
            return joinPoint.proceed();
        }
    }

    private Optional<Function<Object[], Object>> extractor(Method method) {
        Annotation[][] annotations = method.getParameterAnnotations();
        for (int i = 0; i < annotations.length; i++) {
            for (Annotation annotation : annotations[i]) {
                if (annotation instanceof RoutingKey) {
                    int index = i;
                    return Optional.of(args -> args[index]);
                }
            }
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
        return Optional.empty();
    }

    private static String describe(Method method, String source) {
        return "@DualWrite(routingKey = \"" + source + "\") on " + method.getDeclaringClass().getName() + "."
                + method.getName() + "()";
    }
}
