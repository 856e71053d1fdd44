package io.dualwrite.autoconfigure;

import io.dualwrite.verify.DualRead;
import io.dualwrite.verify.DualReadAspect;
import java.util.Objects;
import java.util.function.Supplier;
import org.aopalliance.intercept.MethodInterceptor;
import org.springframework.aop.support.DefaultPointcutAdvisor;
import org.springframework.aop.support.annotation.AnnotationMatchingPointcut;
import org.springframework.core.Ordered;

/**
 * Applies {@link DualReadAspect} to methods annotated {@link DualRead}: the call runs as before, and a
 * sampled share of them is compared on both stores off the request thread.
 */
public class DualReadAdvisor extends DefaultPointcutAdvisor {

    private static final long serialVersionUID = 1L;

    /**
     * @param aspect supplies the aspect on first use, so that proxy creation does not build the reader
     */
    public DualReadAdvisor(Supplier<DualReadAspect> aspect) {
        super(AnnotationMatchingPointcut.forMethodAnnotation(DualRead.class), interceptor(aspect));
        setOrder(Ordered.LOWEST_PRECEDENCE);
    }

    private static MethodInterceptor interceptor(Supplier<DualReadAspect> aspect) {
        Objects.requireNonNull(aspect, "aspect");
        return invocation -> aspect.get().sample(AspectInvocations.joinPoint(invocation, "@DualRead"));
    }
}
