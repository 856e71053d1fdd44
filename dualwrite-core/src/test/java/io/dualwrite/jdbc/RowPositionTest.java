package io.dualwrite.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Rows read by the storage layer and rows built from maps give the same values by position as by name. */
class RowPositionTest {

    @Test
    void positionalRows_shareTheirLayout_andGiveValuesByPosition() {
        Row.Layout layout = new Row.Layout(new String[] {"id", "note", "amount"});
        Row first = Row.ofPositional(layout, new Object[] {1L, null, 7});
        Row second = Row.ofPositional(layout, new Object[] {2L, "x", 8});

        assertThat(first.sharedLayout()).isNotNull().isSameAs(second.sharedLayout());
        assertThat(first.position("note")).isEqualTo(1);
        assertThat(first.position("missing")).isEqualTo(-1);
        assertThat(second.valueAt(second.position("note"))).isEqualTo(second.get("note"));
        assertThat(first.valueAt(first.position("note"))).isNull();
    }

    @Test
    void mapRows_haveNoSharedLayout_butPositionsInColumnOrder() {
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("ID", 1L);
        values.put("note", null);
        values.put("amount", 7);
        Row row = Row.of(values);

        assertThat(row.sharedLayout()).isNull();
        assertThat(row.position("amount")).isEqualTo(2);
        assertThat(row.valueAt(row.position("id"))).isEqualTo(1L);
        assertThat(row.position("missing")).isEqualTo(-1);
        assertThatThrownBy(() -> row.valueAt(3)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void rowsOfDifferentLayouts_doNotShareOne() {
        Row a = Row.ofPositional(new Row.Layout(new String[] {"id"}), new Object[] {1L});
        Row b = Row.ofPositional(new Row.Layout(new String[] {"id"}), new Object[] {1L});

        assertThat(a.sharedLayout()).isNotSameAs(b.sharedLayout());
    }
}
