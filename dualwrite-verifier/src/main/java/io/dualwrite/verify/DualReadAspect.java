package io.dualwrite.verify;

import java.lang.reflect.Method;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
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
import org.springframework.expression.Expression;
import org.springframework.expression.spel.standard.SpelExpressionParser;

/**
 * Serves {@link DualRead}: after the method returns, evaluates the key and hands it to
 * {@link DoubleReader#sample}. Register it as a bean with {@code @EnableAspectJAutoProxy} (the starter
 * does). A method that throws is not sampled, and no problem of the sampling is ever thrown: a bad
 * annotation or key is logged at WARN once per method.
 */
@Aspect
public class DualReadAspect implements Ordered {

    private static final Log log = LogFactory.getLog(DualReadAspect.class);

    private final DoubleReader reader;
    private final SpelExpressionParser parser = new SpelExpressionParser();
    private final ParameterNameDiscoverer parameterNames = new DefaultParameterNameDiscoverer();
    private final Map<Method, Binding> bindings = new ConcurrentHashMap<>();
    private final Map<Method, Boolean> warned = new ConcurrentHashMap<>();
    private int order = Ordered.LOWEST_PRECEDENCE;

    /**
     * Creates the aspect.
     *
     * @param reader the double reader samples go to
     */
    public DualReadAspect(DoubleReader reader) {
        this.reader = Objects.requireNonNull(reader, "reader");
    }

    /**
     * Sets the aspect's order among advisors; the default is the lowest precedence.
     *
     * @param order the order
     */
    public void setOrder(int order) {
        this.order = order;
    }

    @Override
    public int getOrder() {
        return order;
    }

    /**
     * Runs the method, then samples the row its annotation names.
     *
     * @param joinPoint the intercepted call
     * @return the method's result, untouched
     * @throws Throwable whatever the method throws, and nothing else
     */
    @Around("@annotation(io.dualwrite.verify.DualRead)")
    public Object sample(ProceedingJoinPoint joinPoint) throws Throwable {
        Object result = joinPoint.proceed();
        Method method = ((MethodSignature) joinPoint.getSignature()).getMethod();
        try {
            if (joinPoint.getTarget() != null) {
                method = AopUtils.getMostSpecificMethod(method, joinPoint.getTarget().getClass());
            }
            Binding binding = bindings.computeIfAbsent(method, this::bind);
            MethodBasedEvaluationContext context = new MethodBasedEvaluationContext(null, method,
                    joinPoint.getArgs(), parameterNames);
            context.setVariable("result", result);
            Object key = binding.expression().getValue(context);
            if (key == null) {
                // Reading by a null key finds nothing on either store: nothing to compare.
                return result;
            }
            reader.sample(binding.table(), key);
        } catch (RuntimeException e) {
            if (warned.putIfAbsent(method, Boolean.TRUE) == null) {
                log.warn("dualwrite could not sample @DualRead on " + method.getDeclaringClass().getName() + "."
                        + method.getName() + "(): " + e.getMessage() + " (reported once per method; the read"
                        + " itself is unaffected)");
            }
        }
        return result;
    }

    private Binding bind(Method method) {
        DualRead annotation = AnnotatedElementUtils.findMergedAnnotation(method, DualRead.class);
        if (annotation == null) {
            throw new IllegalStateException("no @DualRead found");
        }
        return new Binding(annotation.table(), parser.parseExpression(annotation.key()));
    }

    private record Binding(String table, Expression expression) {
    }
}
