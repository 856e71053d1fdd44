package io.dualwrite.capture;

import java.lang.reflect.Array;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Records the keys named by {@link DualWrite} annotations after the method returns. Register it as a
 * bean with {@code @EnableAspectJAutoProxy} (the starter does).
 *
 * <p>Keys are recorded even when the method throws, as long as they evaluate: mirroring reads the
 * row's current state, so a spurious change is harmless, while a write that happened before the
 * exception (outside a transaction, or under {@code SUPPORTS}, {@code NOT_SUPPORTED} or {@code NEVER},
 * where writes auto-commit) must not be missed. On the exceptional path an evaluation problem is attached
 * to the method's exception as suppressed, never thrown instead of it.
 *
 * <p>In OUTBOX mode a method outside a transaction would commit its writes before its keys are known,
 * so their outbox rows could only come after the commit, and a crash in between would lose the change.
 * Such a call is refused before the method runs, unless transparent capture is on
 * ({@link #setTransparentCapture}), which writes the outbox rows with each statement, in the statement's
 * own short transaction.
 */
@Aspect
public class DualWriteAspect implements Ordered {

    private final ChangeCapture capture;
    private final SpelExpressionParser parser = new SpelExpressionParser();
    private final ParameterNameDiscoverer parameterNames = new DefaultParameterNameDiscoverer();
    private final Map<Method, List<Binding>> bindings = new ConcurrentHashMap<>();
    private int order = Ordered.LOWEST_PRECEDENCE;
    private volatile boolean transparentCapture;

    /**
     * Creates the aspect.
     *
     * @param capture where keys are recorded
     */
    public DualWriteAspect(ChangeCapture capture) {
        this.capture = Objects.requireNonNull(capture, "capture");
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
     * Tells the aspect that transparent capture wraps the data source, so that a write outside a
     * transaction gets its outbox rows with each statement; without it, OUTBOX refuses such a call before
     * the method runs. Default false.
     *
     * @param on whether {@code dualwrite.capture.transparent} is on
     */
    public void setTransparentCapture(boolean on) {
        this.transparentCapture = on;
    }

    /**
     * Runs the method, then records the keys its annotations name.
     *
     * @param joinPoint the intercepted call
     * @return the method's result
     * @throws Throwable whatever the method throws, or {@link DualWriteKeyException} for a bad key
     */
    @Around("@annotation(io.dualwrite.capture.DualWrite) || @annotation(io.dualwrite.capture.DualWrites)")
    public Object recordKeys(ProceedingJoinPoint joinPoint) throws Throwable {
        Method method = ((MethodSignature) joinPoint.getSignature()).getMethod();
        if (joinPoint.getTarget() != null) {
            method = AopUtils.getMostSpecificMethod(method, joinPoint.getTarget().getClass());
        }
        List<Binding> methodBindings = bindings.computeIfAbsent(method, this::bind);
        if (!transparentCapture && !TransactionSynchronizationManager.isActualTransactionActive()
                && capture.writesBeforeCommit()) {
            throw new IllegalStateException("@DualWrite on " + describe(method) + " runs outside a transaction, and"
                    + " dualwrite.mirror.mode=OUTBOX writes the outbox rows in the application's transaction: this"
                    + " write would commit before its outbox row, and a crash in between would lose the change. Make"
                    + " the method or its caller @Transactional (REQUIRED), or set dualwrite.capture.transparent=true;"
                    + " nothing was written");
        }
        // Outside a transaction (SUPPORTS and friends included: their writes auto-commit), what a capturing
        // DataSource hands on during the call waits for its end, so that the keys the annotation names
        // again go on once.
        boolean scoped = !TransactionSynchronizationManager.isActualTransactionActive() && capture.openCallScope();
        Object result;
        try {
            result = joinPoint.proceed();
        } catch (Throwable failure) {
            try {
                capture.recordAll(changes(methodBindings, method, joinPoint.getArgs(), null));
            } catch (RuntimeException evaluation) {
                failure.addSuppressed(evaluation);
            }
            if (scoped) {
                try {
                    capture.closeCallScope();
                } catch (RuntimeException handOn) {
                    failure.addSuppressed(handOn);
                }
            }
            throw failure;
        }
        try {
            capture.recordAll(changes(methodBindings, method, joinPoint.getArgs(), result));
        } finally {
            if (scoped) {
                capture.closeCallScope();
            }
        }
        return result;
    }

    private List<Binding> bind(Method method) {
        Set<DualWrite> annotations = AnnotatedElementUtils.findMergedRepeatableAnnotations(method, DualWrite.class);
        List<Binding> result = new ArrayList<>();
        for (DualWrite annotation : annotations) {
            boolean single = !annotation.key().isBlank();
            boolean many = !annotation.keys().isBlank();
            if (single == many) {
                throw new DualWriteKeyException("@DualWrite(table = \"" + annotation.table() + "\") on "
                        + describe(method) + " must set exactly one of key or keys", null);
            }
            String source = single ? annotation.key() : annotation.keys();
            try {
                result.add(new Binding(annotation.table(), source, parser.parseExpression(source), many));
            } catch (ParseException e) {
                throw new DualWriteKeyException("@DualWrite(table = \"" + annotation.table() + "\") on "
                        + describe(method) + ": key expression '" + source + "' does not parse: " + e.getMessage(), e);
            }
        }
        return result;
    }

    private List<Change> changes(List<Binding> methodBindings, Method method, Object[] args, Object result) {
        MethodBasedEvaluationContext context = new MethodBasedEvaluationContext(null, method, args, parameterNames);
        context.setVariable("result", result);
        List<Change> changes = new ArrayList<>();
        for (Binding binding : methodBindings) {
            Object value;
            try {
                value = binding.expression.getValue(context);
            } catch (EvaluationException e) {
                throw new DualWriteKeyException(binding.describe(method) + " failed: " + e.getMessage(), e);
            }
            if (value == null) {
                throw new DualWriteKeyException(binding.describe(method) + " evaluated to null; every changed row"
                        + " needs a key (if the id is generated, return the saved entity and use #result)", null);
            }
            if (binding.many) {
                for (Object key : asCollection(value, binding, method)) {
                    changes.add(change(binding, method, key));
                }
            } else {
                changes.add(change(binding, method, value));
            }
        }
        return changes;
    }

    private static Change change(Binding binding, Method method, Object key) {
        try {
            return new Change(binding.table, io.dualwrite.jdbc.RowKey.from(key));
        } catch (IllegalArgumentException e) {
            throw new DualWriteKeyException(binding.describe(method) + " gave a key with a null value: " + key, e);
        }
    }

    private static Collection<?> asCollection(Object value, Binding binding, Method method) {
        if (value instanceof Collection<?> collection) {
            return collection;
        }
        if (value.getClass().isArray()) {
            List<Object> list = new ArrayList<>();
            for (int i = 0; i < Array.getLength(value); i++) {
                list.add(Array.get(value, i));
            }
            return list;
        }
        throw new DualWriteKeyException(binding.describe(method) + " must give a collection or array, not "
                + value.getClass().getName(), null);
    }

    private static String describe(Method method) {
        return method.getDeclaringClass().getName() + "." + method.getName() + "()";
    }

    private record Binding(String table, String source, Expression expression, boolean many) {

        String describe(Method method) {
            return "@DualWrite(table = \"" + table + "\") on " + DualWriteAspect.describe(method) + ": "
                    + (many ? "keys" : "key") + " expression '" + source + "'";
        }
    }
}
