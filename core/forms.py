from django import forms


class RadioSelect(forms.RadioSelect):
    """Radio buttons without a "---------" choice when an answer is required.

    Django adds that blank choice to every model field with choices and no default; as a radio
    button it shows up pre-selected, although picking it can only fail validation. Every radio
    group in the product uses this widget.
    """

    def optgroups(self, name, value, attrs=None):
        groups = super().optgroups(name, value, attrs)
        if not self.is_required:
            return groups
        kept = []
        for group_name, options, index in groups:
            options = [option for option in options if option["value"] not in ("", None)]
            if options:
                kept.append((group_name, options, index))
        return kept
